/*
 * CustomDataset: one folder per class under data_root (class names = folder names, sorted, or the "classes" list);
 * every .jpg/.jpeg/.png/.bmp file below a class folder, recursively, is a sample of that class, in sorted order.
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/schema.h"
#include "data/data.h"

bool sscma_strlist_push(sscma_strlist *l, const char *s)
{
    if (l->count == l->cap) {
        int64_t cap = l->cap ? l->cap * 2 : 64;
        char **items = sscma_mrealloc(l->ctx, l->items, (size_t)cap * sizeof *items);
        if (items == NULL)
            return false;
        l->items = items, l->cap = cap;
    }
    l->items[l->count] = sscma_mstrdup(l->ctx, s);
    return l->items[l->count++] != NULL;
}

void sscma_strlist_free(sscma_strlist *l)
{
    for (int64_t i = 0; i < l->count; i++)
        sscma_mfree(l->ctx, l->items[i]);
    sscma_mfree(l->ctx, l->items);
    l->items = NULL, l->count = l->cap = 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_ext(const char *name, const char *ext)
{
    const char *dot = strrchr(name, '.');
    return dot != NULL && strcasecmp(dot, ext) == 0;
}

sscma_status sscma_class_list(json_t *classes, sscma_strlist *names)
{
    size_t i;
    json_t *v;
    if (!json_is_array(classes) || json_array_size(classes) == 0)
        return sscma_fail(SSCMA_ERR_CONFIG, "dataset", "'classes' must be a non-empty list of names");
    json_array_foreach(classes, i, v)
    {
        if (!json_is_string(v))
            return sscma_fail(SSCMA_ERR_CONFIG, "dataset", "classes[%zu] must be a name", i);
        if (!sscma_strlist_push(names, json_string_value(v)))
            return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, "dataset", "cannot copy the class names");
    }
    return SSCMA_OK;
}

bool sscma_is_image_name(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (dot == NULL)
        return false;
    return strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0 || strcasecmp(dot, ".png") == 0 ||
           strcasecmp(dot, ".bmp") == 0;
}

sscma_status sscma_scan_images(const char *dir, sscma_strlist *out, int depth)
{
    return sscma_scan_files(dir, NULL, out, depth);
}

sscma_status sscma_scan_files(const char *dir, const char *ext, sscma_strlist *out, int depth)
{
    if (depth > 32)
        return sscma_fail(SSCMA_ERR_FORMAT, dir, "folders nested more than 32 deep (a link loop?)");
    DIR *d = opendir(dir);
    if (d == NULL)
        return sscma_fail(SSCMA_ERR_IO, dir, "cannot open the folder: %s", strerror(errno));
    sscma_strlist entries = {.ctx = out->ctx};
    struct dirent *e;
    sscma_status st = SSCMA_OK;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.' && !sscma_strlist_push(&entries, e->d_name)) {
            st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, dir, "cannot list the folder");
            break;
        }
    closedir(d);
    if (entries.count > 0)
        qsort(entries.items, (size_t)entries.count, sizeof *entries.items, cmp_str);
    for (int64_t i = 0; st == SSCMA_OK && i < entries.count; i++) {
        char path[4096];
        if (snprintf(path, sizeof path, "%s/%s", dir, entries.items[i]) >= (int)sizeof path)
            continue; /* a path this long cannot be opened anyway */
        struct stat sb;
        if (stat(path, &sb) != 0)
            continue;
        if (S_ISDIR(sb.st_mode))
            st = sscma_scan_files(path, ext, out, depth + 1);
        else if (S_ISREG(sb.st_mode) && (ext == NULL ? sscma_is_image_name(entries.items[i]) : has_ext(entries.items[i], ext)) &&
                 !sscma_strlist_push(out, path))
            st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, dir, "cannot list the folder");
    }
    sscma_strlist_free(&entries);
    return st;
}

typedef struct folder_cfg {
    const char *data_root, *data_prefix;
    json_t *classes;
} folder_cfg;

/* max_pixels and indices are read by dataset.c for every format */
static const sscma_field folder_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_STRING(folder_cfg, data_root, NULL),
    SSCMA_FIELD_STRING(folder_cfg, data_prefix, NULL),
    SSCMA_FIELD_JSON_AS("classes", folder_cfg, classes),
    SSCMA_FIELD_KEY("max_pixels"),
    SSCMA_FIELD_KEY("indices"),
    SSCMA_FIELD_KEY("on_defect"),
    SSCMA_FIELD_END,
};

sscma_status sscma_folder_open(sscma_dataset *ds, json_t *config)
{
    folder_cfg cfg;
    if (sscma_schema_read(folder_fields, config, "CustomDataset", NULL, &cfg) != SSCMA_OK)
        return SSCMA_ERR_CONFIG;
    const char *root = cfg.data_root, *prefix = cfg.data_prefix;
    if (root == NULL)
        return sscma_schema_expected("CustomDataset", NULL, "data_root", "a folder of class folders", NULL);
    char base[2048];
    snprintf(base, sizeof base, "%s%s%s", root, prefix ? "/" : "", prefix ? prefix : "");
    sscma_strlist classes = {.ctx = ds->ctx};
    sscma_status st = SSCMA_OK;
    json_t *given = cfg.classes;
    if (given != NULL) {
        size_t i;
        json_t *item;
        if (!json_is_array(given) || json_array_size(given) == 0)
            return sscma_schema_expected("CustomDataset", NULL, "classes", "a non-empty list of folder names", given);
        json_array_foreach(given, i, item)
        {
            if (!json_is_string(item) || !sscma_strlist_push(&classes, json_string_value(item))) {
                char at[32];
                sscma_strlist_free(&classes);
                return json_is_string(item)
                           ? sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, "CustomDataset", "cannot copy the class names")
                           : sscma_schema_expected("CustomDataset", sscma_schema_index(at, sizeof at, "classes", i),
                                                   NULL, "a folder name", item);
            }
        }
    } else {
        DIR *d = opendir(base);
        if (d == NULL)
            return sscma_fail(SSCMA_ERR_IO, base, "cannot open the dataset folder: %s", strerror(errno));
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            char path[4096];
            struct stat sb;
            if (snprintf(path, sizeof path, "%s/%s", base, e->d_name) >= (int)sizeof path)
                continue;
            if (e->d_name[0] != '.' && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode) && !sscma_strlist_push(&classes, e->d_name)) {
                st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, base, "cannot list classes");
                break;
            }
        }
        closedir(d);
        if (classes.count > 0)
            qsort(classes.items, (size_t)classes.count, sizeof *classes.items, cmp_str);
        /* a class name travels into JSON (logs, `dataset stats --json`) and the exported model's metadata, which
         * hold UTF-8 only: refuse the folder rather than write a name that is empty or missing there */
        for (int64_t k = 0; st == SSCMA_OK && k < classes.count; k++) {
            char esc[1024];
            if (!sscma_utf8_or_escape(classes.items[k], esc, sizeof esc))
                st = sscma_fail(SSCMA_ERR_FORMAT, base,
                                "class folder '%s': its name is not valid UTF-8 (class names go to JSON and the "
                                "exported model); rename the folder",
                                esc);
        }
    }
    if (st == SSCMA_OK && classes.count == 0)
        st = sscma_fail(SSCMA_ERR_FORMAT, base, "no class folders: expected one sub-folder per class");
    sscma_strlist files = {.ctx = ds->ctx};
    int32_t *labels = NULL;
    int64_t cap = 0;
    for (int64_t k = 0; st == SSCMA_OK && k < classes.count; k++) {
        char dir[4096];
        if (snprintf(dir, sizeof dir, "%s/%s", base, classes.items[k]) >= (int)sizeof dir) {
            st = sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, base, "class folder path too long");
            break;
        }
        int64_t before = files.count;
        st = sscma_scan_images(dir, &files, 0);
        if (st == SSCMA_OK && files.count > cap) {
            cap = files.cap;
            int32_t *grown = sscma_mrealloc(ds->ctx, labels, (size_t)cap * sizeof *labels);
            if (grown == NULL)
                st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, base, "cannot list samples");
            else
                labels = grown;
        }
        for (int64_t i = before; st == SSCMA_OK && i < files.count; i++)
            labels[i] = (int32_t)k;
    }
    if (st == SSCMA_OK && files.count == 0)
        st = sscma_fail(SSCMA_ERR_FORMAT, base, "empty dataset: no .jpg, .jpeg, .png or .bmp file in %lld class "
                        "folder(s)", (long long)classes.count);
    if (st != SSCMA_OK) {
        sscma_strlist_free(&classes);
        sscma_strlist_free(&files);
        sscma_mfree(ds->ctx, labels);
        return st;
    }
    ds->kind = DATASET_FOLDER;
    ds->size = files.count;
    ds->paths = files.items;
    ds->labels = labels;
    ds->n_classes = (int32_t)classes.count;
    ds->class_names = classes.items;
    return SSCMA_OK;
}
