/*
 * Speechcommand (SSCMA's sscma.Speechcommand, sscma/datasets/speechcommand.py): Speech Commands' layout, one folder
 * per word of <hash>_nohash_<n>.wav clips, _background_noise_/, validation_list.txt and testing_list.txt (lines
 * "word/file.wav"). mode "val" and "test" take their list's entries, "train" every clip of the words minus both
 * lists; entries of words not in `words` are dropped; files sorted; classes the words found, sorted. libsscma
 * extensions: "unknown" (the other word folders as class _unknown_) and "silence" (that fraction of extra samples
 * cut from _background_noise_ as class _silence_, at offsets fixed per split).
 *
 * A clip is decoded when its window is read (the index holds paths; headers are checked at open): read and mixed
 * to mono (libsndfile), resampled to sampling_rate (libsamplerate), +0.5 dB and clamped to [-1, 1] (lower_volume,
 * SSCMA's name), divided by its peak (a silent clip stays silent), cropped (train: a random start; otherwise the
 * centre) or zero-padded behind to segment_length; in train with use_background, half of the clips get a
 * background crop at 20-25 dB SNR (amplitude SNR: docs/coming-from-sscma.md says how SSCMA differs).
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <samplerate.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/file.h"
#include "core/schema.h"
#include "data/audio.h"
#include "data/data.h"

#define TYPE "Speechcommand"
#define BACKGROUND "_background_noise_"

/* ---- reading ---- */

sscma_status sscma_audio_read(const sscma_context *ctx, const char *path, int64_t rate, float **samples,
                              int64_t *count, int64_t *file_rate)
{
    SF_INFO info;
    memset(&info, 0, sizeof info);
    /* sf_strerror(NULL) is libsndfile's process-wide last error: loader workers open clips at once, so the open and
     * the reading of its error are one critical section */
    static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;
    char why[256] = "";
    pthread_mutex_lock(&open_lock);
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    if (f == NULL)
        snprintf(why, sizeof why, "%s", sf_strerror(NULL));
    pthread_mutex_unlock(&open_lock);
    if (f == NULL)
        return sscma_fail(SSCMA_ERR_FORMAT, path, "cannot read as audio: %s", why);
    sscma_status st = SSCMA_OK;
    if (info.channels < 1 || info.channels > 64 || info.samplerate < 1 || info.samplerate > 1000000)
        st = sscma_fail(SSCMA_ERR_FORMAT, path, "%d channels at %d Hz: expected 1 to 64 channels at 1 Hz to 1 MHz",
                        info.channels, info.samplerate);
    else if (info.frames < 1 || info.frames > SSCMA_AUDIO_MAX_FRAMES)
        st = sscma_fail(SSCMA_ERR_FORMAT, path, "%lld frames: expected 1 to %lld", (long long)info.frames,
                        (long long)SSCMA_AUDIO_MAX_FRAMES);
    float *raw = NULL, *mono = NULL;
    int64_t n = 0;
    if (st == SSCMA_OK) {
        raw = sscma_malloc(ctx, (size_t)info.frames * (size_t)info.channels * sizeof *raw);
        mono = sscma_malloc(ctx, (size_t)info.frames * sizeof *mono);
        if (raw == NULL || mono == NULL)
            st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, path, "cannot allocate %lld frames", (long long)info.frames);
    }
    if (st == SSCMA_OK) {
        n = (int64_t)sf_readf_float(f, raw, info.frames);
        if (n < 1)
            st = sscma_fail(SSCMA_ERR_FORMAT, path, "no sample could be read: %s", sf_strerror(f));
        for (int64_t i = 0; i < n; i++) { /* channels averaged to mono */
            double s = 0.0;
            for (int c = 0; c < info.channels; c++)
                s += raw[i * info.channels + c];
            mono[i] = (float)(s / info.channels);
        }
        for (int64_t i = 0; i < n && st == SSCMA_OK; i++)
            if (!isfinite(mono[i]))
                st = sscma_fail(SSCMA_ERR_FORMAT, path, "sample %lld is not a finite number", (long long)i);
    }
    sf_close(f);
    sscma_mfree(ctx, raw);
    if (st == SSCMA_OK && rate > 0 && rate != info.samplerate) {
        const double ratio = (double)rate / (double)info.samplerate;
        const int64_t out_n = (int64_t)ceil((double)n * ratio);
        float *out = out_n > 0 && (double)out_n <= (double)SSCMA_AUDIO_MAX_FRAMES * 8 ?
                         sscma_malloc(ctx, (size_t)out_n * sizeof *out) : NULL;
        if (out == NULL)
            st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, path, "cannot resample %lld samples from %d to %lld Hz",
                            (long long)n, info.samplerate, (long long)rate);
        else {
            SRC_DATA d = {.data_in = mono, .data_out = out, .input_frames = (long)n, .output_frames = (long)out_n,
                          .src_ratio = ratio, .end_of_input = 1};
            int err = src_simple(&d, SRC_SINC_MEDIUM_QUALITY, 1);
            if (err != 0)
                st = sscma_fail(SSCMA_ERR_FORMAT, path, "cannot resample from %d to %lld Hz: %s", info.samplerate,
                                (long long)rate, src_strerror(err));
            for (int64_t i = (int64_t)d.output_frames_gen; i < out_n; i++)
                out[i] = 0.0f; /* the last fraction of a sample, when libsamplerate stops short */
            sscma_mfree(ctx, mono);
            mono = out, n = out_n;
        }
    }
    if (st != SSCMA_OK) {
        sscma_mfree(ctx, mono);
        return st;
    }
    *samples = mono, *count = n, *file_rate = info.samplerate;
    return SSCMA_OK;
}

/* Whether path opens as audio with at least one frame: the defect's message when not (checked at open). */
static bool audio_header_ok(const char *path, char *why, size_t size)
{
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    if (f == NULL) {
        struct stat sb;
        snprintf(why, size, "%s", stat(path, &sb) != 0 ? strerror(errno) : sf_strerror(NULL));
        return false;
    }
    bool ok = info.frames >= 1 && info.frames <= SSCMA_AUDIO_MAX_FRAMES && info.channels >= 1 &&
              info.samplerate >= 1;
    if (!ok)
        snprintf(why, size, "%lld frames of %d channels at %d Hz", (long long)info.frames, info.channels,
                 info.samplerate);
    sf_close(f);
    return ok;
}

/* ---- the index ---- */

typedef struct audio_cfg {
    const char *root, *data_root;
    int mode;
    int64_t sampling_rate, segment_length;
    bool use_background, lower_volume, unknown;
    double silence;
    json_t *words;
} audio_cfg;

static const char *const mode_names[] = {"train", "val", "test", NULL};

static const sscma_field audio_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_KEY("max_pixels"),
    SSCMA_FIELD_KEY("indices"),
    SSCMA_FIELD_KEY("on_defect"),
    SSCMA_FIELD_KEY("pipeline"), /* the loader's (the runner moves it there) */
    SSCMA_FIELD_KEY("test_mode"),
    SSCMA_FIELD_STRING(audio_cfg, root, NULL),
    SSCMA_FIELD_STRING(audio_cfg, data_root, NULL),
    SSCMA_FIELD_ENUM_AS("mode", audio_cfg, mode, 0, mode_names, 0),
    SSCMA_FIELD_RANGE(audio_cfg, sampling_rate, 8000, 1000, 192000),
    SSCMA_FIELD_RANGE(audio_cfg, segment_length, 8192, 16, 1 << 22),
    SSCMA_FIELD(audio_cfg, use_background, false),
    SSCMA_FIELD(audio_cfg, lower_volume, false),
    SSCMA_FIELD(audio_cfg, unknown, false),
    SSCMA_FIELD_RANGE(audio_cfg, silence, 0.0, 0.0, 10.0),
    SSCMA_FIELD_JSON_AS("words", audio_cfg, words),
    SSCMA_FIELD_END,
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_wav(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && strcasecmp(name + n - 4, ".wav") == 0;
}

static int64_t find(const sscma_strlist *l, const char *s)
{
    for (int64_t i = 0; i < l->count; i++)
        if (strcmp(l->items[i], s) == 0)
            return i;
    return -1;
}

/* The entries of folder dir (not starting with '.') that are folders (dirs true) or .wav files, sorted. */
static sscma_status list_dir(const char *dir, bool dirs, sscma_strlist *out)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return sscma_fail(SSCMA_ERR_IO, dir, "cannot open the folder: %s", strerror(errno));
    struct dirent *e;
    sscma_status st = SSCMA_OK;
    while (st == SSCMA_OK && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[4200];
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &sb) != 0 || (dirs ? !S_ISDIR(sb.st_mode) : !S_ISREG(sb.st_mode) || !is_wav(e->d_name)))
            continue;
        if (!sscma_strlist_push(out, e->d_name))
            st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, dir, "cannot list the folder");
    }
    closedir(d);
    if (out->count > 1)
        qsort(out->items, (size_t)out->count, sizeof *out->items, cmp_str);
    return st;
}

/* What a split is built from while opening. */
typedef struct builder {
    sscma_dataset *ds;
    const char *root;
    sscma_strlist words, folders; /* the classes' words (sorted); every word folder */
    int32_t unknown_label;        /* -1 without "unknown" */
    sscma_strlist files;          /* "word/file.wav" of this split */
    sscma_strlist excluded;       /* train: the entries of both lists */
} builder;

/* The class of word folder `word`: its index in words, _unknown_, or -1 (dropped). */
static int32_t label_of(const builder *b, const char *word)
{
    int64_t k = find(&b->words, word);
    if (k >= 0)
        return (int32_t)k;
    return strcmp(word, BACKGROUND) != 0 && find(&b->folders, word) >= 0 ? b->unknown_label : -1;
}

/*
 * Reads list file `name` ("word/file.wav" lines): into b->files (keep) or b->excluded. Entries of dropped words are
 * skipped; a malformed line or a missing file of a kept word is a defect naming the line.
 */
static sscma_status read_list(builder *b, const char *name, bool keep)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", b->root, name);
    void *data = NULL;
    size_t size = 0;
    sscma_status st = sscma_read_file(b->ds->ctx, path, &data, &size);
    if (st != SSCMA_OK)
        return st;
    char *text = data, *p = text;
    int64_t line = 0;
    while (st == SSCMA_OK && p < text + size) {
        char *end = memchr(p, '\n', (size_t)(text + size - p));
        if (end == NULL)
            end = text + size;
        line++;
        char *q = end;
        while (q > p && (q[-1] == '\r' || q[-1] == ' ' || q[-1] == '\t'))
            q--;
        while (p < q && (*p == ' ' || *p == '\t'))
            p++;
        const size_t len = (size_t)(q - p);
        char entry[1024];
        if (len > 0 && len < sizeof entry) {
            memcpy(entry, p, len);
            entry[len] = '\0';
            char *slash = strchr(entry, '/');
            if (slash == NULL || slash == entry || strchr(slash + 1, '/') != NULL || !is_wav(slash + 1) ||
                memchr(p, '\0', len) != NULL)
                st = sscma_dataset_defect(b->ds, SSCMA_ERR_FORMAT, path, "line %lld: expected word/file.wav, got "
                                          "'%s'", (long long)line, entry);
            else {
                *slash = '\0';
                const bool wanted = label_of(b, entry) >= 0;
                *slash = '/';
                char file[4200];
                struct stat sb;
                snprintf(file, sizeof file, "%s/%s", b->root, entry);
                /* a word not in words is dropped, as SSCMA does */
                if (wanted && keep && (stat(file, &sb) != 0 || !S_ISREG(sb.st_mode)))
                    st = sscma_dataset_defect(b->ds, SSCMA_ERR_FORMAT, path, "line %lld: %s: no such file",
                                              (long long)line, entry);
                else if (wanted && !sscma_strlist_push(keep ? &b->files : &b->excluded, entry))
                    st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, path, "cannot list the entries");
            }
        } else if (len >= sizeof entry)
            st = sscma_dataset_defect(b->ds, SSCMA_ERR_FORMAT, path, "line %lld: an entry of %zu bytes",
                                      (long long)line, len);
        p = end + 1;
    }
    sscma_mfree(b->ds->ctx, data);
    return st;
}

/* train: every .wav of the kept word folders, minus the entries of both lists */
static sscma_status train_files(builder *b)
{
    sscma_status st = read_list(b, "validation_list.txt", false);
    if (st == SSCMA_OK)
        st = read_list(b, "testing_list.txt", false);
    if (st == SSCMA_OK && b->excluded.count > 1)
        qsort(b->excluded.items, (size_t)b->excluded.count, sizeof *b->excluded.items, cmp_str);
    for (int64_t w = 0; st == SSCMA_OK && w < b->folders.count; w++) {
        if (label_of(b, b->folders.items[w]) < 0)
            continue;
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/%s", b->root, b->folders.items[w]);
        sscma_strlist wavs = {.ctx = b->ds->ctx};
        st = list_dir(dir, false, &wavs);
        for (int64_t i = 0; st == SSCMA_OK && i < wavs.count; i++) {
            char entry[4200];
            snprintf(entry, sizeof entry, "%s/%s", b->folders.items[w], wavs.items[i]);
            const char *key = entry;
            if (b->excluded.count > 0 &&
                bsearch(&key, b->excluded.items, (size_t)b->excluded.count, sizeof key, cmp_str) != NULL)
                continue;
            if (!sscma_strlist_push(&b->files, entry))
                st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, dir, "cannot list the clips");
        }
        sscma_strlist_free(&wavs);
    }
    return st;
}

/* The background files, decoded at the dataset's rate. */
static sscma_status read_background(sscma_dataset *ds, const char *root, sscma_audio_set *a)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/" BACKGROUND, root);
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return SSCMA_OK;
    sscma_strlist names = {.ctx = ds->ctx};
    sscma_status st = list_dir(dir, false, &names);
    const int64_t n = names.count;
    if (st == SSCMA_OK && n > 0) {
        a->background = sscma_calloc(ds->ctx, (size_t)n, sizeof *a->background);
        a->background_len = sscma_calloc(ds->ctx, (size_t)n, sizeof *a->background_len);
        a->mix = sscma_calloc(ds->ctx, (size_t)n, sizeof *a->mix);
        if (a->background == NULL || a->background_len == NULL || a->mix == NULL)
            st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, dir, "cannot list the background files");
    }
    for (int64_t i = 0; st == SSCMA_OK && i < n; i++) {
        char path[4400];
        int64_t file_rate = 0;
        snprintf(path, sizeof path, "%s/%s", dir, names.items[i]);
        st = sscma_audio_read(ds->ctx, path, a->rate, &a->background[a->n_background],
                              &a->background_len[a->n_background], &file_rate);
        if (st == SSCMA_OK) { /* SSCMA mixes in only the files whose name lacks "noise" */
            a->mix[a->n_background] = strstr(names.items[i], "noise") == NULL;
            a->n_mix += a->mix[a->n_background];
            a->n_background++;
        } else if (st != SSCMA_ERR_OUT_OF_MEMORY) {
            char why[600];
            snprintf(why, sizeof why, "%s", sscma_last_error());
            const size_t skip = strlen(path) + 2 <= strlen(why) && strncmp(why, path, strlen(path)) == 0
                                    ? strlen(path) + 2 : 0;
            st = sscma_dataset_defect(ds, st, path, "%s", why + skip);
        }
    }
    sscma_strlist_free(&names);
    return st;
}

void sscma_audio_set_free(sscma_dataset *ds)
{
    sscma_audio_set *a = ds->audio;
    if (a == NULL)
        return;
    for (int32_t i = 0; i < a->n_background; i++)
        sscma_mfree(ds->ctx, a->background[i]);
    sscma_mfree(ds->ctx, a->background);
    sscma_mfree(ds->ctx, a->background_len);
    sscma_mfree(ds->ctx, a->mix);
    sscma_mfree(ds->ctx, a->silence_file);
    sscma_mfree(ds->ctx, a->silence_offset);
    sscma_mfree(ds->ctx, a);
    ds->audio = NULL;
}

/* The words list: each a folder of root; `where` for messages. */
static sscma_status read_words(builder *b, json_t *words)
{
    if (words == NULL || json_is_null(words)) { /* SSCMA's default */
        static const char *const def[] = {"no", "off", "on", "yes"};
        for (int i = 0; i < 4; i++)
            if (!sscma_strlist_push(&b->words, def[i]))
                return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, TYPE, "cannot copy the words");
    } else if (!json_is_array(words) || json_array_size(words) == 0)
        return sscma_schema_expected(TYPE, NULL, "words", "a non-empty list of word folders", words);
    for (size_t i = 0; i < json_array_size(words); i++) {
        json_t *v = json_array_get(words, i);
        const char *w = json_string_value(v);
        char at[64];
        if (w == NULL || w[0] == '\0' || strchr(w, '/') != NULL || strcmp(w, BACKGROUND) == 0)
            return sscma_schema_expected(TYPE, sscma_schema_index(at, sizeof at, "words", i), NULL,
                                         "the name of a word folder", v);
        if (find(&b->words, w) < 0 && !sscma_strlist_push(&b->words, w))
            return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, TYPE, "cannot copy the words");
    }
    if (b->words.count > 1)
        qsort(b->words.items, (size_t)b->words.count, sizeof *b->words.items, cmp_str);
    for (int64_t i = 0; i < b->words.count; i++) { /* SSCMA drops a word without a folder: a class would vanish */
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/%s", b->root, b->words.items[i]);
        if (find(&b->folders, b->words.items[i]) < 0)
            return sscma_fail(SSCMA_ERR_FORMAT, dir, "no such folder (words lists '%s')", b->words.items[i]);
        sscma_strlist wavs = {.ctx = b->ds->ctx};
        sscma_status st = list_dir(dir, false, &wavs);
        const int64_t n = wavs.count;
        sscma_strlist_free(&wavs);
        if (st != SSCMA_OK)
            return st;
        if (n == 0)
            return sscma_fail(SSCMA_ERR_FORMAT, dir, "no .wav file (words lists '%s')", b->words.items[i]);
    }
    return SSCMA_OK;
}

sscma_status sscma_audio_open(sscma_dataset *ds, json_t *config)
{
    audio_cfg c;
    sscma_status st = sscma_schema_read(audio_fields, config, TYPE, NULL, &c);
    if (st != SSCMA_OK)
        return st;
    const char *root = c.root != NULL ? c.root : c.data_root;
    if (root == NULL)
        return sscma_schema_expected(TYPE, NULL, "root", "the Speech Commands folder (or data_root)", NULL);
    if (strstr(root, "://") != NULL)
        return sscma_schema_fail(TYPE, NULL, c.root != NULL ? "root" : "data_root", "'%s' is a URL: libsscma "
                                 "downloads nothing; give the extracted folder", root);
    sscma_audio_set *a = sscma_calloc(ds->ctx, 1, sizeof *a);
    if (a == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, TYPE, "cannot allocate the dataset");
    ds->audio = a;
    a->rate = c.sampling_rate, a->length = c.segment_length, a->train = c.mode == 0;
    a->lower_volume = c.lower_volume, a->use_background = c.use_background;
    builder b = {.ds = ds, .root = root, .words = {.ctx = ds->ctx}, .folders = {.ctx = ds->ctx},
                 .unknown_label = -1, .files = {.ctx = ds->ctx}, .excluded = {.ctx = ds->ctx}};
    sscma_strlist names = {.ctx = ds->ctx};
    st = list_dir(root, true, &b.folders);
    if (st == SSCMA_OK)
        st = read_words(&b, c.words);
    for (int64_t i = 0; st == SSCMA_OK && i < b.words.count; i++)
        if (!sscma_strlist_push(&names, b.words.items[i]))
            st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, TYPE, "cannot copy the class names");
    if (st == SSCMA_OK && c.silence > 0.0 && !sscma_strlist_push(&names, "_silence_"))
        st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, TYPE, "cannot copy the class names");
    if (st == SSCMA_OK && c.unknown) {
        b.unknown_label = (int32_t)names.count;
        if (!sscma_strlist_push(&names, "_unknown_"))
            st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, TYPE, "cannot copy the class names");
    }
    if (st == SSCMA_OK)
        st = c.mode == 0 ? train_files(&b) : read_list(&b, c.mode == 1 ? "validation_list.txt" : "testing_list.txt",
                                                        true);
    if (st == SSCMA_OK && b.files.count > 1)
        qsort(b.files.items, (size_t)b.files.count, sizeof *b.files.items, cmp_str);
    if (st == SSCMA_OK && (c.use_background || c.silence > 0.0))
        st = read_background(ds, root, a);
    if (st == SSCMA_OK && c.silence > 0.0 && a->n_background == 0)
        st = sscma_fail(SSCMA_ERR_FORMAT, root, BACKGROUND "/: no background clip to cut silence from (silence "
                        "%g)", c.silence);
    /* the clips that open (a defect otherwise), then the silence samples */
    const int64_t n_silence = c.silence > 0.0 ? (int64_t)llround(c.silence * (double)b.files.count) : 0;
    const int64_t cap = b.files.count + n_silence;
    if (st == SSCMA_OK && cap > 0) {
        ds->paths = sscma_calloc(ds->ctx, (size_t)cap, sizeof *ds->paths);
        ds->labels = sscma_calloc(ds->ctx, (size_t)cap, sizeof *ds->labels);
        a->silence_file = sscma_calloc(ds->ctx, (size_t)cap, sizeof *a->silence_file);
        a->silence_offset = sscma_calloc(ds->ctx, (size_t)cap, sizeof *a->silence_offset);
        if (ds->paths == NULL || ds->labels == NULL || a->silence_file == NULL || a->silence_offset == NULL)
            st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, TYPE, "cannot allocate %lld samples", (long long)cap);
    }
    int64_t n = 0;
    for (int64_t i = 0; st == SSCMA_OK && i < b.files.count; i++) {
        char path[4400], why[256];
        snprintf(path, sizeof path, "%s/%s", root, b.files.items[i]);
        if (!audio_header_ok(path, why, sizeof why)) {
            st = sscma_dataset_defect(ds, SSCMA_ERR_FORMAT, path, "cannot read as audio: %s", why);
            continue;
        }
        char *slash = strchr(b.files.items[i], '/');
        *slash = '\0';
        ds->labels[n] = label_of(&b, b.files.items[i]);
        if ((ds->paths[n] = sscma_mstrdup(ds->ctx, path)) == NULL)
            st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, TYPE, "cannot copy the paths");
        n++;
    }
    const uint64_t split_key = sscma_hash64(0x5113e0ceULL + (uint64_t)c.mode);
    for (int64_t k = 0; st == SSCMA_OK && k < n_silence; k++) { /* fixed per split: drawn from (mode, k) */
        const uint64_t h = sscma_hash64(split_key ^ sscma_hash64((uint64_t)k));
        const int32_t f = (int32_t)(h % (uint64_t)a->n_background);
        const int64_t room = a->background_len[f] > a->length ? a->background_len[f] - a->length + 1 : 1;
        a->silence_file[n] = f;
        a->silence_offset[n] = (int64_t)(sscma_hash64(h) % (uint64_t)room);
        ds->labels[n] = (int32_t)find(&names, "_silence_");
        n++;
    }
    if (st == SSCMA_OK && n == 0)
        st = sscma_fail(SSCMA_ERR_FORMAT, root, "no clip in mode '%s' (words: %lld, every clip left out or none "
                        "listed)", mode_names[c.mode], (long long)b.words.count);
    sscma_strlist_free(&b.words);
    sscma_strlist_free(&b.folders);
    sscma_strlist_free(&b.files);
    sscma_strlist_free(&b.excluded);
    if (st != SSCMA_OK) {
        sscma_strlist_free(&names);
        return st; /* ds->paths, labels and audio are freed with the dataset */
    }
    ds->kind = DATASET_WINDOWS;
    ds->size = n;
    ds->window_len = c.segment_length;
    ds->window_channels = 1;
    ds->window_flat = false;
    ds->n_classes = (int32_t)names.count;
    ds->class_names = names.items;
    return SSCMA_OK;
}

/* ---- one window ---- */

/* A uniform double in [0, 1) from (key, i). */
static double draw(uint64_t key, uint64_t i)
{
    return (double)(sscma_hash64(key ^ sscma_hash64(i)) >> 11) * (1.0 / 9007199254740992.0);
}

/* The clip x of n samples processed into out (length L): lower_volume, peak, then crop at `start` or tail pad. */
static void shape_clip(const sscma_audio_set *a, float *x, int64_t n, int64_t start, float *out)
{
    double peak = 0.0;
    for (int64_t i = 0; i < n; i++) {
        if (a->lower_volume) { /* torchaudio's Vol(0.5, "db"): +0.5 dB, then clamped */
            double v = x[i] * pow(10.0, 0.5 / 20.0);
            x[i] = (float)(v > 1.0 ? 1.0 : v < -1.0 ? -1.0 : v);
        }
        peak = fabs(x[i]) > peak ? fabs(x[i]) : peak;
    }
    const int64_t L = a->length, m = n - start < L ? n - start : L;
    for (int64_t i = 0; i < L; i++) /* a silent clip stays zeros (SSCMA would divide by 0) */
        out[i] = i < m && peak > 0.0 ? (float)(x[start + i] / peak) : 0.0f;
}

static sscma_status audio_window(const sscma_dataset *ds, int64_t k, bool random, uint64_t seed, float *out)
{
    const sscma_audio_set *a = ds->audio;
    const int64_t L = a->length;
    const uint64_t key = sscma_hash64(seed ^ sscma_hash64((uint64_t)k ^ 0xc11b5ULL));
    if (ds->paths[k] == NULL) { /* _silence_: a fixed cut of a background file */
        const int32_t f = a->silence_file[k];
        const int64_t off = a->silence_offset[k], len = a->background_len[f] - off;
        float *x = sscma_malloc(ds->ctx, (size_t)len * sizeof *x);
        if (x == NULL)
            return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, TYPE, "sample %lld: cannot allocate", (long long)k);
        memcpy(x, a->background[f] + off, (size_t)(len < L ? len : L) * sizeof *x);
        shape_clip(a, x, len < L ? len : L, 0, out);
        sscma_mfree(ds->ctx, x);
        return SSCMA_OK;
    }
    float *x = NULL;
    int64_t n = 0, file_rate = 0;
    sscma_status st = sscma_audio_read(ds->ctx, ds->paths[k], a->rate, &x, &n, &file_rate);
    if (st != SSCMA_OK)
        return st;
    int64_t start = 0;
    if (n > L) /* train: SSCMA's random crop; otherwise the centre, so evaluation is deterministic */
        start = random && a->train ? (int64_t)(draw(key, 0) * (double)(n - L + 1)) : (n - L) / 2;
    if (start > n - L)
        start = n - L;
    shape_clip(a, x, n, start < 0 ? 0 : start, out);
    sscma_mfree(ds->ctx, x);
    if (random && a->train && a->use_background && a->n_mix > 0 && draw(key, 1) < 0.5) {
        int32_t pick = (int32_t)(draw(key, 2) * a->n_mix), f = 0;
        pick = pick >= a->n_mix ? a->n_mix - 1 : pick;
        for (int32_t i = 0, seen = 0; i < a->n_background; i++) /* the pick-th file of the mix pool */
            if (a->mix[i] && seen++ == pick)
                f = i;
        const int64_t bl = a->background_len[f];
        int64_t off = bl > L ? (int64_t)(draw(key, 3) * (double)(bl - L + 1)) : 0;
        off = bl > L && off > bl - L ? bl - L : off;
        const float *bg = a->background[f] + off;
        const int64_t m = bl < L ? bl : L;
        double sp = 0.0, bp = 0.0;
        for (int64_t i = 0; i < L; i++)
            sp += (double)out[i] * out[i];
        for (int64_t i = 0; i < m; i++)
            bp += (double)bg[i] * bg[i];
        const double s_rms = sqrt(sp / (double)L), bg_rms = sqrt(bp / (double)L);
        const double snr_db = 20.0 + 5.0 * draw(key, 4);
        if (bg_rms > 0.0) /* noise RMS = signal RMS 10^(-snr/20): an amplitude SNR (SSCMA scales by the power) */
            for (int64_t i = 0; i < m; i++)
                out[i] = (float)(out[i] + bg[i] / bg_rms * s_rms * pow(10.0, -snr_db / 20.0));
    }
    return SSCMA_OK;
}

sscma_status sscma_audio_file_window(const sscma_context *ctx, const char *path, int64_t rate, int64_t length,
                                     bool lower_volume, float *out)
{
    const sscma_audio_set a = {.rate = rate, .length = length, .lower_volume = lower_volume};
    float *x = NULL;
    int64_t n = 0, file_rate = 0;
    sscma_status st = sscma_audio_read(ctx, path, rate, &x, &n, &file_rate);
    if (st != SSCMA_OK)
        return st;
    shape_clip(&a, x, n, n > length ? (n - length) / 2 : 0, out);
    sscma_mfree(ctx, x);
    return SSCMA_OK;
}

sscma_status sscma_audio_clip_read(sscma_context *ctx, const char *path, int64_t sampling_rate,
                                   int64_t segment_length, int32_t lower_volume, sscma_tensor **out)
{
    SSCMA_REQUIRE_NONNULL(ctx);
    SSCMA_REQUIRE_NONNULL(path);
    SSCMA_REQUIRE_NONNULL(out);
    *out = NULL;
    if (sampling_rate < 1 || segment_length < 1 || sampling_rate > 1000000 || segment_length > ((int64_t)1 << 28))
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "sampling_rate %lld and segment_length %lld must be 1..1000000 "
                          "and 1..2^28", (long long)sampling_rate, (long long)segment_length);
    struct stat sb;
    if (stat(path, &sb) != 0) /* missing or unreadable: an I/O error, not a malformed file */
        return SSCMA_FAIL(SSCMA_ERR_IO, "%s: %s", path, strerror(errno));
    sscma_tensor *t = NULL;
    const int64_t dims[2] = {1, segment_length};
    sscma_status st = sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 2, dims, &t);
    void *data = NULL;
    if (st == SSCMA_OK && (st = sscma_tensor_data(t, &data)) == SSCMA_OK)
        st = sscma_audio_file_window(ctx, path, sampling_rate, segment_length, lower_volume != 0, data);
    if (st != SSCMA_OK) {
        sscma_tensor_destroy(t);
        return st;
    }
    *out = t;
    return SSCMA_OK;
}

sscma_status sscma_audio_window(const sscma_dataset *ds, int64_t index, bool random, uint64_t seed, float *out,
                                int32_t *label)
{
    if (index < 0 || index >= ds->size)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, ds->type, "sample %lld is outside 0..%lld", (long long)index,
                          (long long)ds->size - 1);
    const int64_t k = ds->subset != NULL ? ds->subset[index] : index;
    sscma_status st = audio_window(ds, k, random, seed, out);
    if (st == SSCMA_OK)
        *label = ds->labels[k];
    return st;
}

sscma_status sscma_dataset_window_seeded(const sscma_dataset *ds, int64_t index, uint64_t seed, float *out,
                                         int32_t *label)
{
    if (ds->audio == NULL)
        return sscma_dataset_window(ds, index, out, label);
    return sscma_audio_window(ds, index, true, seed, out, label);
}
