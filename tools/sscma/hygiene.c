/*
 * Data hygiene for `sscma dataset check` and `sscma dataset stats` (docs/data.md, "Data hygiene"): exact and near
 * duplicate images within and across the config's splits, and outliers (boxes, image sizes, brightness, rare
 * classes). Everything here works on the public API's decoded samples; file names come from the split's annotation
 * file where the dataset has one (hyg_names).
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli.h"
#include "hygiene.h"

/* The sample's u8 pixels [h, w, c] (owned by the sample). */
static const uint8_t *sample_pixels(const sscma_sample *s, int64_t *h, int64_t *w, int64_t *c)
{
    sscma_tensor *t = NULL;
    void *px = NULL;
    sscma_sample_image(s, &t);
    sscma_tensor_dim(t, 0, h), sscma_tensor_dim(t, 1, w), sscma_tensor_dim(t, 2, c);
    sscma_tensor_data(t, &px);
    return px;
}

/* ---- hashes ---- */

/* splitmix64's finaliser: every input bit reaches every output bit. */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30, x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27, x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* A 64-bit content hash, fed 8 bytes at a time (the tail padded with zeros, the length folded in at the end). */
typedef struct hash64 {
    uint64_t h, len;
    uint8_t tail[8];
    size_t n_tail;
} hash64;

static void hash_init(hash64 *s) { memset(s, 0, sizeof *s), s->h = 0x9e3779b97f4a7c15ULL; }

static void hash_word(hash64 *s, uint64_t w) { s->h = mix64(s->h ^ mix64(w + 0x632be59bd9b4e019ULL)); }

static void hash_bytes(hash64 *s, const uint8_t *p, size_t n)
{
    s->len += n;
    while (n > 0 && s->n_tail > 0 && s->n_tail < 8)
        s->tail[s->n_tail++] = *p++, n--;
    if (s->n_tail == 8) {
        uint64_t w = 0;
        memcpy(&w, s->tail, 8);
        hash_word(s, w), s->n_tail = 0;
    }
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t w = 0;
        memcpy(&w, p, 8);
        hash_word(s, w);
    }
    memcpy(s->tail, p, n), s->n_tail = n;
}

static uint64_t hash_final(hash64 *s)
{
    uint64_t w = 0;
    memcpy(&w, s->tail, s->n_tail);
    hash_word(s, w);
    return mix64(s->h ^ s->len);
}

/* The file's bytes hashed; false when it cannot be read. */
static bool hash_file(const char *path, uint64_t *out)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return false;
    hash64 s;
    hash_init(&s);
    uint8_t buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        hash_bytes(&s, buf, n);
    bool ok = !ferror(f);
    fclose(f);
    *out = hash_final(&s);
    return ok;
}

/*
 * The mean of the image's pixels over the cells of a (HYG_DHASH_GRID + 1)^2 grid (exact area averaging: a source
 * pixel counts by the fraction of it inside a cell, so any image size, smaller or larger than the grid, works), on
 * the grey value (the mean of the channels).
 */
#define GRID (HYG_DHASH_GRID + 1)
static void cell_means(const uint8_t *px, int64_t h, int64_t w, int64_t c, double *cells, double *colsum)
{
    /* colsum[y * GRID + o]: row y averaged over column cell o */
    for (int64_t y = 0; y < h; y++)
        for (int o = 0; o < GRID; o++) {
            double a = (double)o * (double)w / GRID, b = (double)(o + 1) * (double)w / GRID, sum = 0.0;
            for (int64_t x = (int64_t)floor(a); x < (int64_t)ceil(b) && x < w; x++) {
                double weight = fmin(b, (double)(x + 1)) - fmax(a, (double)x), grey = 0.0;
                for (int64_t k = 0; k < c; k++)
                    grey += px[(y * w + x) * c + k];
                sum += weight * grey / (double)c;
            }
            colsum[y * GRID + o] = sum / (b - a);
        }
    for (int r = 0; r < GRID; r++) {
        double a = (double)r * (double)h / GRID, b = (double)(r + 1) * (double)h / GRID;
        for (int o = 0; o < GRID; o++) {
            double sum = 0.0;
            for (int64_t y = (int64_t)floor(a); y < (int64_t)ceil(b) && y < h; y++)
                sum += (fmin(b, (double)(y + 1)) - fmax(a, (double)y)) * colsum[y * GRID + o];
            cells[r * GRID + o] = sum / (b - a);
        }
    }
}

/*
 * dHash: bit (r, c) of the first 64 says whether cell (r, c + 1) is brighter than cell (r, c), of the second 64
 * whether cell (r + 1, c) is brighter than (r, c). Differences under 1e-6 grey levels count as equal (ties from
 * rounding must not flip bits).
 */
int hyg_dhash(const uint8_t *px, int64_t h, int64_t w, int64_t c, uint64_t out[2])
{
    double cells[GRID * GRID];
    double *colsum = malloc((size_t)h * GRID * sizeof *colsum);
    if (colsum == NULL)
        return -1;
    cell_means(px, h, w, c, cells, colsum);
    free(colsum);
    out[0] = out[1] = 0;
    for (int r = 0; r < HYG_DHASH_GRID; r++)
        for (int k = 0; k < HYG_DHASH_GRID; k++) {
            int bit = r * HYG_DHASH_GRID + k;
            if (cells[r * GRID + k + 1] > cells[r * GRID + k] + 1e-6)
                out[0] |= 1ULL << bit;
            if (cells[(r + 1) * GRID + k] > cells[r * GRID + k] + 1e-6)
                out[1] |= 1ULL << bit;
        }
    return 0;
}

int hyg_distance(const uint64_t a[2], const uint64_t b[2])
{
    return __builtin_popcountll(a[0] ^ b[0]) + __builtin_popcountll(a[1] ^ b[1]);
}

/* ---- file names ---- */

void hyg_names_free(hyg_names *n)
{
    for (int64_t i = 0; n->names != NULL && i < n->count; i++)
        free(n->names[i]);
    free(n->names);
    n->names = NULL, n->count = 0;
}

/* A growing list of strings (malloc'd). */
typedef struct strlist {
    char **items;
    int64_t count, cap;
    bool failed;
} strlist;

static void strlist_push(strlist *l, const char *s)
{
    if (l->failed)
        return;
    if (l->count == l->cap) {
        int64_t cap = l->cap > 0 ? l->cap * 2 : 64;
        char **grown = realloc(l->items, (size_t)cap * sizeof *grown);
        if (grown == NULL) {
            l->failed = true;
            return;
        }
        l->items = grown, l->cap = cap;
    }
    if ((l->items[l->count] = strdup(s)) == NULL)
        l->failed = true;
    else
        l->count++;
}

static void strlist_free(strlist *l)
{
    for (int64_t i = 0; i < l->count; i++)
        free(l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static bool is_image_name(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot != NULL && (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0 ||
                           strcasecmp(dot, ".png") == 0 || strcasecmp(dot, ".bmp") == 0);
}

/*
 * The entries of `dir` (no dot files) in strcmp order; with `images`, image files below it recursively (depth 32),
 * else its sub-folders' names. As the library lists a CustomDataset (lib/data/folder.c).
 */
static void scan(const char *dir, bool images, strlist *out, int depth)
{
    DIR *d = depth <= 32 ? opendir(dir) : NULL;
    if (d == NULL)
        return;
    strlist entries = {0};
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            strlist_push(&entries, e->d_name);
    closedir(d);
    if (entries.count > 0)
        qsort(entries.items, (size_t)entries.count, sizeof *entries.items, cmp_str);
    for (int64_t i = 0; i < entries.count; i++) {
        char path[4096];
        struct stat sb;
        if (snprintf(path, sizeof path, "%s/%s", dir, entries.items[i]) >= (int)sizeof path || stat(path, &sb) != 0)
            continue;
        if (!images && S_ISDIR(sb.st_mode))
            strlist_push(out, entries.items[i]);
        else if (images && S_ISDIR(sb.st_mode))
            scan(path, true, out, depth + 1);
        else if (images && S_ISREG(sb.st_mode) && is_image_name(entries.items[i]))
            strlist_push(out, path);
    }
    out->failed = out->failed || entries.failed;
    strlist_free(&entries);
}

/* The files of a CustomDataset: data_root[/data_prefix]/<class>/..., classes from "classes" or sorted folders. */
static void folder_files(json_t *ds, strlist *files)
{
    const char *root = json_string_value(json_object_get(ds, "data_root"));
    const char *prefix = json_string_value(json_object_get(ds, "data_prefix"));
    if (root == NULL)
        return;
    char base[2048];
    snprintf(base, sizeof base, "%s%s%s", root, prefix ? "/" : "", prefix ? prefix : "");
    strlist classes = {0};
    json_t *given = json_object_get(ds, "classes"), *item;
    size_t i;
    if (json_is_array(given))
        json_array_foreach(given, i, item) strlist_push(&classes, json_is_string(item) ? json_string_value(item) : "");
    else
        scan(base, false, &classes, 0);
    for (int64_t k = 0; k < classes.count; k++) {
        char dir[4096];
        if (snprintf(dir, sizeof dir, "%s/%s", base, classes.items[k]) < (int)sizeof dir)
            scan(dir, true, files, 0);
    }
    files->failed = files->failed || classes.failed;
    strlist_free(&classes);
}

/* The image files of a COCO annotation file (ann_file): data_root/data_prefix.img/file_name in file order. */
static void coco_files(json_t *ds, strlist *files)
{
    const char *root = json_string_value(json_object_get(ds, "data_root"));
    const char *ann = json_string_value(json_object_get(ds, "ann_file"));
    json_t *prefix = json_object_get(ds, "data_prefix");
    const char *img = json_is_string(prefix) ? json_string_value(prefix)
                                             : json_string_value(json_object_get(prefix, "img"));
    char path[4096], dir[4096];
    snprintf(path, sizeof path, "%s%s%s", ann[0] == '/' || root == NULL ? "" : root,
             ann[0] == '/' || root == NULL ? "" : "/", ann);
    snprintf(dir, sizeof dir, "%s%s%s", root ? root : ".", img ? "/" : "", img ? img : "");
    json_t *doc = json_load_file(path, 0, NULL), *item;
    size_t i, dl = strlen(dir);
    json_array_foreach(json_object_get(doc, "images"), i, item) {
        const char *name = json_string_value(json_object_get(item, "file_name"));
        char file[8192];
        snprintf(file, sizeof file, "%s%s%s", dir, dl > 0 && dir[dl - 1] == '/' ? "" : "/", name ? name : "");
        strlist_push(files, file);
    }
    json_decref(doc);
}

/*
 * The file of each sample of `split`, from its dataset config: the image records of a COCO annotation file (ann_file)
 * or the files of a CustomDataset, then "indices" applied, as the library reads them. Used only when that gives exactly `size` names (a record left out for a defect would shift them);
 * otherwise, and for other formats, names stay NULL and findings name "<split> sample N".
 */
void hyg_names_load(sscma_config *cfg, const char *split, int64_t size, hyg_names *out)
{
    memset(out, 0, sizeof *out);
    char key[64];
    const char *text = NULL;
    snprintf(key, sizeof key, "%s_dataloader.dataset", split);
    if (sscma_config_get(cfg, key, &text) != SSCMA_OK && strcmp(split, "test") == 0)
        if (sscma_config_get(cfg, "val_dataloader.dataset", &text) != SSCMA_OK)
            return;
    json_t *ds = text != NULL ? json_loads(text, 0, NULL) : NULL;
    const char *type = json_string_value(json_object_get(ds, "type"));
    const char *dot = type != NULL ? strrchr(type, '.') : NULL; /* a registry scope ("mmcls.CustomDataset") */
    strlist files = {0};
    if (json_is_string(json_object_get(ds, "ann_file")))
        coco_files(ds, &files);
    else if (type != NULL && strcmp(dot != NULL ? dot + 1 : type, "CustomDataset") == 0)
        folder_files(ds, &files);
    json_t *indices = json_object_get(ds, "indices");
    int64_t n = json_is_integer(indices) ? (json_integer_value(indices) < files.count ? json_integer_value(indices)
                                                                                     : files.count)
                : json_is_array(indices) ? (int64_t)json_array_size(indices)
                                         : files.count;
    if (!files.failed && n == size && n > 0 && (out->names = calloc((size_t)n, sizeof *out->names)) != NULL) {
        out->count = n;
        for (int64_t i = 0; i < n; i++) {
            int64_t k = json_is_array(indices) ? json_integer_value(json_array_get(indices, (size_t)i)) : i;
            out->names[i] = k >= 0 && k < files.count ? strdup(files.items[k]) : NULL;
        }
    }
    strlist_free(&files);
    json_decref(ds);
}

const char *hyg_name(const hyg_names *n, const char *split, int64_t index, char *buf, size_t size)
{
    if (n->names != NULL && index < n->count && n->names[index] != NULL)
        return n->names[index];
    snprintf(buf, size, "%s sample %lld", split, (long long)index);
    return buf;
}

/* The sample's name as a JSON string; a file name that is not UTF-8 (JSON holds no other) gives the sample's number. */
static json_t *name_json(const hyg_names *n, const char *split, int64_t index)
{
    char buf[96];
    json_t *s = json_string(hyg_name(n, split, index, buf, sizeof buf));
    if (s == NULL) {
        snprintf(buf, sizeof buf, "%s sample %lld", split, (long long)index);
        s = json_string(buf);
    }
    return s;
}

/* ---- duplicates ---- */

typedef struct hyg_image {
    int split;
    int64_t index;
    uint64_t pixels, bytes, dhash[2];
    bool has_bytes;
    int64_t group; /* exact-duplicate group, -1 when unique */
} hyg_image;

static int cmp_pixels(const void *a, const void *b)
{
    const hyg_image *x = *(const hyg_image *const *)a, *y = *(const hyg_image *const *)b;
    return x->pixels < y->pixels ? -1 : x->pixels > y->pixels ? 1 : (x - y < 0 ? -1 : x - y > 0);
}

static json_t *image_json(const hyg_image *im, const char *const *splits, const hyg_names *names)
{
    return json_pack("{s:s, s:I, s:o}", "split", splits[im->split], "index", (json_int_t)im->index, "file",
                     name_json(&names[im->split], splits[im->split], im->index));
}

/*
 * The splits of the config worth comparing: train, val and test, each once (test_dataloader is often val's config:
 * the same dataset twice would be all duplicates) and only those that open.
 */
static int hyg_splits(sscma_config *cfg, sscma_runner *runner, const char *checked, const char **splits,
                      sscma_dataset **sets, json_t *skipped)
{
    static const char *const all[] = {"train", "val", "test"};
    char *texts[3] = {NULL, NULL, NULL};
    int n = 0;
    for (int s = 0; s < 3; s++) {
        char key[64];
        const char *text = NULL;
        snprintf(key, sizeof key, "%s_dataloader.dataset", all[s]);
        if (sscma_config_get(cfg, key, &text) != SSCMA_OK || text == NULL)
            continue;
        bool seen = false;
        for (int k = 0; k < n; k++)
            seen = seen || strcmp(texts[k], text) == 0;
        if (seen)
            continue;
        sscma_dataset *ds = NULL;
        if (sscma_runner_dataset(runner, all[s], &ds) != SSCMA_OK) {
            /* the checked split's own failure is the command's error; another's is noted and left out */
            if (strcmp(all[s], checked) != 0)
                json_object_set_new(skipped, all[s], json_string(sscma_last_error()));
            continue;
        }
        texts[n] = strdup(text);
        splits[n] = all[s], sets[n] = ds, n++;
    }
    for (int k = 0; k < n; k++)
        free(texts[k]);
    return n;
}

int hyg_duplicates(const cli_args *a, sscma_config *cfg, sscma_runner *runner, const char *checked, json_t **out,
                   int64_t *findings)
{
    const char *splits[3] = {NULL, NULL, NULL};
    sscma_dataset *sets[3] = {NULL, NULL, NULL};
    hyg_names names[3];
    memset(names, 0, sizeof names);
    json_t *skipped = json_object();
    int n_splits = hyg_splits(cfg, runner, checked, splits, sets, skipped);
    int64_t total = 0, sizes[3] = {0, 0, 0};
    for (int s = 0; s < n_splits; s++) {
        sscma_dataset_size(sets[s], &sizes[s]);
        total += sizes[s];
        hyg_names_load(cfg, splits[s], sizes[s], &names[s]);
    }
    hyg_image *images = calloc((size_t)(total > 0 ? total : 1), sizeof *images);
    hyg_image **order = calloc((size_t)(total > 0 ? total : 1), sizeof *order);
    json_t *exact = json_array(), *near = json_array(), *counts = json_object();
    int rc = 0;
    int64_t n = 0, groups = 0, leaks = 0, n_near = 0;
    if (images == NULL || order == NULL) {
        rc = cli_error(a, 1, "out of memory");
        goto done;
    }
    for (int s = 0; s < n_splits; s++) {
        json_object_set_new(counts, splits[s], json_integer((json_int_t)sizes[s]));
        for (int64_t i = 0; i < sizes[s]; i++) {
            sscma_sample *sample = NULL;
            if (sscma_dataset_get(sets[s], i, &sample) != SSCMA_OK)
                continue; /* an undecodable image is a problem the check lists */
            int64_t h = 0, w = 0, c = 0;
            const uint8_t *px = sample_pixels(sample, &h, &w, &c);
            hyg_image *im = &images[n];
            im->split = s, im->index = i, im->group = -1;
            hash64 hs;
            hash_init(&hs);
            hash_word(&hs, (uint64_t)h), hash_word(&hs, (uint64_t)w), hash_word(&hs, (uint64_t)c);
            hash_bytes(&hs, px, (size_t)(h * w * c));
            im->pixels = hash_final(&hs);
            int err = hyg_dhash(px, h, w, c, im->dhash);
            sscma_sample_destroy(sample);
            if (err != 0) {
                rc = cli_error(a, 1, "out of memory");
                goto done;
            }
            if (names[s].names != NULL && names[s].names[i] != NULL)
                im->has_bytes = hash_file(names[s].names[i], &im->bytes);
            order[n] = im, n++;
        }
    }
    /* exact duplicates: equal pixel hashes (a 64-bit hash: a chance collision among n images is about n^2 / 2^65) */
    qsort(order, (size_t)n, sizeof *order, cmp_pixels);
    for (int64_t i = 0; i < n;) {
        int64_t j = i + 1;
        while (j < n && order[j]->pixels == order[i]->pixels)
            j++;
        if (j - i > 1) {
            json_t *files = json_array();
            bool same_bytes = true, across = false;
            for (int64_t k = i; k < j; k++) {
                order[k]->group = groups;
                same_bytes = same_bytes && order[k]->has_bytes && order[k]->bytes == order[i]->bytes;
                across = across || order[k]->split != order[i]->split;
                json_array_append_new(files, image_json(order[k], splits, names));
            }
            json_array_append_new(exact, json_pack("{s:o, s:b, s:b}", "files", files, "identical_files", same_bytes,
                                                   "across_splits", across));
            groups++, leaks += across;
        }
        i = j;
    }
    /* near duplicates: every pair within the Hamming threshold: n^2 / 2 popcount pairs (2 x 10^8 for 20,000 images) */
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = i + 1; j < n; j++) {
            const hyg_image *x = &images[i], *y = &images[j];
            if (x->group >= 0 && x->group == y->group)
                continue;
            int d = hyg_distance(x->dhash, y->dhash);
            if (d > HYG_NEAR_BITS)
                continue;
            bool across = x->split != y->split;
            leaks += across, n_near++;
            if (json_array_size(near) >= HYG_MAX_LISTED)
                continue; /* counted, not listed */
            json_array_append_new(near, json_pack("{s:[o,o], s:i, s:b}", "files", image_json(x, splits, names),
                                                  image_json(y, splits, names), "distance", d, "across_splits",
                                                  across));
        }
    *findings = (int64_t)json_array_size(exact) + n_near;
    *out = json_pack("{s:o, s:s, s:i, s:i, s:O, s:o, s:o, s:I, s:I, s:I}", "splits", counts, "near_hash", "dHash",
                     "hash_bits", 2 * HYG_DHASH_GRID * HYG_DHASH_GRID, "threshold_bits", HYG_NEAR_BITS,
                     "not_compared", skipped, "exact", exact, "near", near, "near_pairs", (json_int_t)n_near,
                     "across_splits", (json_int_t)leaks, "findings", (json_int_t)*findings);
    exact = near = counts = NULL;
done:
    json_decref(exact), json_decref(near), json_decref(counts), json_decref(skipped);
    for (int s = 0; s < 3; s++)
        hyg_names_free(&names[s]);
    free(images), free(order);
    return rc;
}

static void print_file(const json_t *f)
{
    printf("%s %s", json_string_value(json_object_get(f, "split")), json_string_value(json_object_get(f, "file")));
}

void hyg_print_duplicates(const json_t *d)
{
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(d, "exact"), i, g) {
        json_t *files = json_object_get(g, "files"), *f;
        size_t k;
        printf("exact duplicate%s%s: ", json_is_true(json_object_get(g, "across_splits")) ? " across splits" : "",
               json_is_true(json_object_get(g, "identical_files")) ? " (identical files)" : " (same pixels)");
        json_array_foreach(files, k, f) {
            if (k > 0)
                printf(" = ");
            print_file(f);
        }
        putchar('\n');
    }
    json_array_foreach(json_object_get(d, "near"), i, g) {
        json_t *files = json_object_get(g, "files");
        printf("near duplicate%s (dHash distance %d of %d): ",
               json_is_true(json_object_get(g, "across_splits")) ? " across splits" : "",
               (int)json_integer_value(json_object_get(g, "distance")),
               (int)json_integer_value(json_object_get(d, "hash_bits")));
        print_file(json_array_get(files, 0));
        printf(" ~ ");
        print_file(json_array_get(files, 1));
        putchar('\n');
    }
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(d, "not_compared"), key, v)
        printf("duplicates: split %s not compared: %s\n", key, json_string_value(v));
    long long n_near = (long long)json_integer_value(json_object_get(d, "near_pairs"));
    if ((size_t)n_near > json_array_size(json_object_get(d, "near")))
        printf("duplicates: %lld more near pairs not listed\n",
               n_near - (long long)json_array_size(json_object_get(d, "near")));
    printf("duplicates:");
    json_object_foreach(json_object_get(d, "splits"), key, v)
        printf(" %s %lld,", key, (long long)json_integer_value(v));
    printf(" %zu exact group%s, %lld near pair%s (threshold %d of %d bits), %lld across splits\n",
           json_array_size(json_object_get(d, "exact")), json_array_size(json_object_get(d, "exact")) == 1 ? "" : "s",
           n_near, n_near == 1 ? "" : "s",
           (int)json_integer_value(json_object_get(d, "threshold_bits")),
           (int)json_integer_value(json_object_get(d, "hash_bits")),
           (long long)json_integer_value(json_object_get(d, "across_splits")));
}

/* ---- outliers ---- */

typedef struct hyg_box {
    int64_t image;
    int32_t box, label;
    float xyxy[4];
    double log_area, log_aspect; /* ln of the box's share of its image, ln of width / height */
} hyg_box;

typedef struct hyg_img_stat {
    int64_t h, w;
    double brightness;
} hyg_img_stat;

struct hyg_outliers {
    const char *split;
    hyg_names names;
    hyg_img_stat *imgs;
    int64_t n_imgs, cap_imgs;
    hyg_box *boxes;
    int64_t n_boxes, cap_boxes;
    bool failed;
};

hyg_outliers *hyg_outliers_create(sscma_config *cfg, const char *split, int64_t size)
{
    hyg_outliers *o = calloc(1, sizeof *o);
    if (o == NULL)
        return NULL;
    o->split = split;
    hyg_names_load(cfg, split, size, &o->names);
    return o;
}

void hyg_outliers_destroy(hyg_outliers *o)
{
    if (o == NULL)
        return;
    hyg_names_free(&o->names);
    free(o->imgs), free(o->boxes), free(o);
}

static bool grow(void **p, int64_t *cap, int64_t need, size_t item)
{
    if (need <= *cap)
        return true;
    int64_t c = *cap > 0 ? *cap * 2 : 256;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, (size_t)c * item);
    if (q == NULL)
        return false;
    *p = q, *cap = c;
    return true;
}

void hyg_outliers_add(hyg_outliers *o, const sscma_sample *s)
{
    if (o->failed || !grow((void **)&o->imgs, &o->cap_imgs, o->n_imgs + 1, sizeof *o->imgs)) {
        o->failed = true;
        return;
    }
    int64_t h = 0, w = 0, c = 0;
    const uint8_t *px = sample_pixels(s, &h, &w, &c);
    double sum = 0.0;
    for (int64_t i = 0; i < h * w * c; i++)
        sum += px[i];
    hyg_img_stat *st = &o->imgs[o->n_imgs];
    st->h = h, st->w = w, st->brightness = h * w * c > 0 ? sum / (double)(h * w * c) : 0.0;
    int32_t nb = 0;
    const float *b = NULL;
    const int32_t *bl = NULL;
    sscma_sample_boxes(s, &nb, &b, &bl);
    if (!grow((void **)&o->boxes, &o->cap_boxes, o->n_boxes + nb, sizeof *o->boxes)) {
        o->failed = true;
        return;
    }
    for (int32_t k = 0; k < nb; k++) {
        hyg_box *x = &o->boxes[o->n_boxes++];
        double bw = b[4 * k + 2] - b[4 * k], bh = b[4 * k + 3] - b[4 * k + 1];
        x->image = o->n_imgs, x->box = k, x->label = bl[k];
        memcpy(x->xyxy, b + 4 * k, sizeof x->xyxy);
        /* a degenerate box (the check refuses those) must not make -inf: floor the sides at a hundredth of a pixel */
        bw = bw > 0.01 ? bw : 0.01, bh = bh > 0.01 ? bh : 0.01;
        x->log_area = log(bw * bh / (double)(h * w > 0 ? h * w : 1));
        x->log_aspect = log(bw / bh);
    }
    o->n_imgs++;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The median of v (n values; reordered) or 0 when empty. */
static double median(double *v, int64_t n)
{
    if (n == 0)
        return 0.0;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/*
 * The robust centre and scale of a value: median and 1.4826 * the median absolute deviation (the standard deviation
 * for normal data), the scale floored at `floor` so that a set of near-identical values does not flag a small
 * difference. Returns false (no z-rule) under HYG_MIN_FOR_Z values.
 */
typedef struct robust {
    double centre, scale;
    bool ok;
} robust;

static robust robust_of(double *scratch, int64_t n, double floor_scale)
{
    robust r = {0.0, floor_scale, n >= HYG_MIN_FOR_Z};
    if (!r.ok)
        return r;
    r.centre = median(scratch, n);
    for (int64_t i = 0; i < n; i++)
        scratch[i] = fabs(scratch[i] - r.centre);
    double mad = 1.4826 * median(scratch, n);
    r.scale = mad > floor_scale ? mad : floor_scale;
    return r;
}

static double z_of(const robust *r, double v) { return r->ok ? (v - r->centre) / r->scale : 0.0; }

static void add_image_finding(json_t *list, hyg_outliers *o, int64_t i, const char *reason, json_t *detail)
{
    json_object_set_new(detail, "file", name_json(&o->names, o->split, i));
    json_object_set_new(detail, "index", json_integer((json_int_t)i));
    json_object_set_new(detail, "reason", json_string(reason));
    json_array_append_new(list, detail);
}

int hyg_outliers_finish(const cli_args *a, hyg_outliers *o, const int64_t *class_images, const char *const *class_names,
                        int32_t n_classes, json_t **out, int64_t *findings)
{
    if (o->failed)
        return cli_error(a, 1, "out of memory");
    int64_t big = o->n_boxes > o->n_imgs ? o->n_boxes : o->n_imgs;
    double *v = malloc((size_t)(big > n_classes ? big : n_classes > 0 ? n_classes : 1) * sizeof *v);
    if (v == NULL)
        return cli_error(a, 1, "out of memory");
    json_t *boxes = json_array(), *images = json_array(), *classes = json_array();
    /*
     * boxes: ln(area share) and ln(aspect) against their robust spread over the boxes of the same class (a sandal is
     * wide by nature), or over every box of the split when the class has too few for a spread
     */
    for (int64_t i = 0; i < o->n_boxes; i++)
        v[i] = o->boxes[i].log_area;
    robust area_all = robust_of(v, o->n_boxes, HYG_LOG_FLOOR);
    for (int64_t i = 0; i < o->n_boxes; i++)
        v[i] = o->boxes[i].log_aspect;
    robust aspect_all = robust_of(v, o->n_boxes, HYG_LOG_FLOOR);
    for (int32_t c = -1; c < n_classes; c++) { /* -1: boxes whose label is outside the classes */
        int64_t m = 0;
        for (int64_t i = 0; i < o->n_boxes; i++)
            if (o->boxes[i].label == c || (c < 0 && (o->boxes[i].label < 0 || o->boxes[i].label >= n_classes)))
                v[m++] = o->boxes[i].log_area;
        if (m == 0)
            continue;
        robust area = robust_of(v, m, HYG_LOG_FLOOR);
        m = 0;
        for (int64_t i = 0; i < o->n_boxes; i++)
            if (o->boxes[i].label == c || (c < 0 && (o->boxes[i].label < 0 || o->boxes[i].label >= n_classes)))
                v[m++] = o->boxes[i].log_aspect;
        robust aspect = robust_of(v, m, HYG_LOG_FLOOR);
        if (!area.ok)
            area = area_all, aspect = aspect_all;
        for (int64_t i = 0; i < o->n_boxes; i++) {
            const hyg_box *b = &o->boxes[i];
            if (!(b->label == c || (c < 0 && (b->label < 0 || b->label >= n_classes))))
                continue;
            double za = z_of(&area, b->log_area), zr = z_of(&aspect, b->log_aspect);
            double bw = b->xyxy[2] - b->xyxy[0], bh = b->xyxy[3] - b->xyxy[1];
            const char *reason = bw < HYG_MIN_SIDE_PX || bh < HYG_MIN_SIDE_PX || za < -HYG_Z ? "tiny"
                                 : za > HYG_Z                                                  ? "huge"
                                 : fabs(zr) > HYG_Z                                            ? "aspect"
                                                                                               : NULL;
            if (reason == NULL)
                continue;
            json_t *d = json_pack("{s:i, s:i, s:[ffff], s:f, s:f, s:f, s:f}", "box", (int)b->box, "class",
                                  (int)b->label, "xyxy", (double)b->xyxy[0], (double)b->xyxy[1], (double)b->xyxy[2],
                                  (double)b->xyxy[3], "area_share", exp(b->log_area), "aspect", exp(b->log_aspect),
                                  "z_area", za, "z_aspect", zr);
            add_image_finding(boxes, o, b->image, reason, d);
        }
    }
    /* image sizes: against the most common size when at least half the images have it, else ln(pixels) robustly */
    int64_t mode_h = 0, mode_w = 0, mode_n = 0;
    for (int64_t i = 0; i < o->n_imgs; i++) /* sizes as h * 2^32 + w, sorted: the longest run is the mode */
        v[i] = (double)o->imgs[i].h * 4294967296.0 + (double)o->imgs[i].w;
    qsort(v, (size_t)o->n_imgs, sizeof *v, cmp_double);
    for (int64_t i = 0, j = 0; i < o->n_imgs; i = j) {
        while (j < o->n_imgs && v[j] == v[i])
            j++;
        if (j - i > mode_n)
            mode_n = j - i, mode_h = (int64_t)(v[i] / 4294967296.0), mode_w = (int64_t)fmod(v[i], 4294967296.0);
    }
    bool by_mode = mode_n * 2 >= o->n_imgs;
    for (int64_t i = 0; i < o->n_imgs; i++)
        v[i] = log((double)(o->imgs[i].h * o->imgs[i].w));
    robust pixels = robust_of(v, o->n_imgs, HYG_LOG_FLOOR);
    for (int64_t i = 0; i < o->n_imgs; i++)
        v[i] = o->imgs[i].brightness;
    robust bright = robust_of(v, o->n_imgs, HYG_BRIGHTNESS_FLOOR);
    for (int64_t i = 0; i < o->n_imgs; i++) {
        const hyg_img_stat *s = &o->imgs[i];
        double zp = z_of(&pixels, log((double)(s->h * s->w))), zb = z_of(&bright, s->brightness);
        if (by_mode ? s->h != mode_h || s->w != mode_w : fabs(zp) > HYG_Z)
            add_image_finding(images, o, i, "size", json_pack("{s:I, s:I}", "height", (json_int_t)s->h, "width",
                                                              (json_int_t)s->w));
        if (fabs(zb) > HYG_Z)
            add_image_finding(images, o, i, zb < 0 ? "dark" : "bright",
                              json_pack("{s:f, s:f}", "brightness", s->brightness, "z", zb));
    }
    /* classes: fewer images than max(5, 10% of the median class) */
    for (int32_t c = 0; c < n_classes; c++)
        v[c] = (double)class_images[c];
    double need = n_classes > 0 ? fmax((double)HYG_MIN_CLASS, 0.1 * median(v, n_classes)) : 0.0;
    for (int32_t c = 0; c < n_classes; c++)
        if ((double)class_images[c] < need)
            json_array_append_new(classes, json_pack("{s:i, s:s, s:I, s:f}", "class", (int)c, "name",
                                                     class_names[c] ? class_names[c] : "", "images",
                                                     (json_int_t)class_images[c], "needed", need));
    free(v);
    *findings = (int64_t)(json_array_size(boxes) + json_array_size(images) + json_array_size(classes));
    *out = json_pack("{s:{s:f, s:f, s:f, s:f, s:I, s:I, s:f, s:f}, s:o, s:o, s:o, s:I}", "rules", "z", HYG_Z,
                     "median_box_area_share", exp(area_all.centre), "median_box_aspect", exp(aspect_all.centre),
                     "median_brightness", bright.centre, "mode_height", (json_int_t)(by_mode ? mode_h : 0),
                     "mode_width", (json_int_t)(by_mode ? mode_w : 0), "min_class_images", need, "min_box_side_px",
                     HYG_MIN_SIDE_PX, "boxes", boxes, "images", images, "classes", classes, "findings",
                     (json_int_t)*findings);
    return 0;
}

void hyg_print_outliers(const json_t *d)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(d, "boxes"), i, f) {
        json_t *xy = json_object_get(f, "xyxy");
        printf("outlier box (%s): %s box %d, class %d, [%.1f %.1f %.1f %.1f], %.4f of the image, aspect %.2f\n",
               json_string_value(json_object_get(f, "reason")), json_string_value(json_object_get(f, "file")),
               (int)json_integer_value(json_object_get(f, "box")), (int)json_integer_value(json_object_get(f, "class")),
               json_real_value(json_array_get(xy, 0)), json_real_value(json_array_get(xy, 1)),
               json_real_value(json_array_get(xy, 2)), json_real_value(json_array_get(xy, 3)),
               json_real_value(json_object_get(f, "area_share")), json_real_value(json_object_get(f, "aspect")));
    }
    json_array_foreach(json_object_get(d, "images"), i, f) {
        const char *reason = json_string_value(json_object_get(f, "reason"));
        if (strcmp(reason, "size") == 0)
            printf("outlier image (size): %s is %lld x %lld px\n", json_string_value(json_object_get(f, "file")),
                   (long long)json_integer_value(json_object_get(f, "height")),
                   (long long)json_integer_value(json_object_get(f, "width")));
        else
            printf("outlier image (%s): %s has mean brightness %.1f (robust z %.1f)\n", reason,
                   json_string_value(json_object_get(f, "file")), json_real_value(json_object_get(f, "brightness")),
                   json_real_value(json_object_get(f, "z")));
    }
    json_array_foreach(json_object_get(d, "classes"), i, f)
        printf("rare class: %d (%s) has %lld images, fewer than %.1f\n",
               (int)json_integer_value(json_object_get(f, "class")), json_string_value(json_object_get(f, "name")),
               (long long)json_integer_value(json_object_get(f, "images")),
               json_real_value(json_object_get(f, "needed")));
    printf("outliers: %lld\n", (long long)json_integer_value(json_object_get(d, "findings")));
}
