/*
 * VOCDataset: Pascal VOC XML annotations (libexpat). data_root holds Annotations/<id>.xml and JPEGImages/<file>; the
 * ids come from ann_file (ImageSets/Main/trainval.txt style, one id per line) or, without it, every .xml file of
 * Annotations/ (sorted). Each XML gives <filename>, <size><width><height>, and <object>s with <name>, <difficult>
 * and <bndbox><xmin><ymin><xmax><ymax> in pixels (kept as given, as mmdet's VOC reader does). Classes: "classes", or
 * the 20 Pascal VOC classes. Objects of other classes are an error (naming the file and the object) unless
 * "skip_unknown" is set; difficult objects are kept unless "skip_difficult". Boxes are clipped to the image and
 * counted (strict: an error).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <expat.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/file.h"
#include "core/schema.h"
#include "data/data.h"

static const char *const voc_classes[] = {"aeroplane", "bicycle", "bird",  "boat",      "bottle",
                                          "bus",       "car",     "cat",   "chair",     "cow",
                                          "diningtable", "dog",   "horse", "motorbike", "person",
                                          "pottedplant", "sheep", "sofa",  "train",     "tvmonitor"};

/* What the parser collects from one file. */
typedef struct voc_doc {
    char path[64][32]; /* element stack (names, truncated) */
    int depth;
    char text[512];
    size_t text_len;
    char filename[512];
    double width, height;
    /* objects */
    char name[128];
    double box[4];
    int have; /* bit k: box[k] seen */
    int difficult;
    int n_objects;
    double (*objects)[4];
    int32_t *labels;
    int *difficult_flags;
    char (*names)[128];
    int cap;
    bool oom;
    const sscma_context *ctx; /* the dataset's: the object arrays grow in it */
} voc_doc;

static void XMLCALL on_start(void *user, const XML_Char *name, const XML_Char **attrs)
{
    (void)attrs;
    voc_doc *d = user;
    if (d->depth < 64)
        snprintf(d->path[d->depth], sizeof d->path[0], "%s", name);
    d->depth++;
    d->text_len = 0;
    d->text[0] = '\0';
    if (strcmp(name, "object") == 0)
        d->name[0] = '\0', d->have = 0, d->difficult = 0;
}

static void XMLCALL on_text(void *user, const XML_Char *s, int len)
{
    voc_doc *d = user;
    size_t n = (size_t)len < sizeof d->text - 1 - d->text_len ? (size_t)len : sizeof d->text - 1 - d->text_len;
    memcpy(d->text + d->text_len, s, n);
    d->text_len += n;
    d->text[d->text_len] = '\0';
}

static bool in(const voc_doc *d, const char *parent)
{
    return d->depth >= 2 && d->depth - 2 < 64 && strcmp(d->path[d->depth - 2], parent) == 0;
}

static void XMLCALL on_end(void *user, const XML_Char *name)
{
    voc_doc *d = user;
    char *t = d->text;
    while (*t == ' ' || *t == '\n' || *t == '\t' || *t == '\r')
        t++;
    size_t n = strlen(t);
    while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\n' || t[n - 1] == '\t' || t[n - 1] == '\r'))
        t[--n] = '\0';
    static const char *const coords[4] = {"xmin", "ymin", "xmax", "ymax"};
    if (strcmp(name, "filename") == 0 && in(d, "annotation"))
        snprintf(d->filename, sizeof d->filename, "%s", t);
    else if (strcmp(name, "width") == 0 && in(d, "size"))
        d->width = strtod(t, NULL);
    else if (strcmp(name, "height") == 0 && in(d, "size"))
        d->height = strtod(t, NULL);
    else if (strcmp(name, "name") == 0 && in(d, "object"))
        snprintf(d->name, sizeof d->name, "%s", t);
    else if (strcmp(name, "difficult") == 0 && in(d, "object"))
        d->difficult = atoi(t);
    else if (in(d, "bndbox") && d->depth >= 3 && d->depth - 3 < 64 && strcmp(d->path[d->depth - 3], "object") == 0) {
        /* the object's own box, not a <part>'s */
        for (int k = 0; k < 4; k++)
            if (strcmp(name, coords[k]) == 0) {
                char *end = NULL;
                d->box[k] = strtod(t, &end);
                if (end != t && *end == '\0' && isfinite(d->box[k]))
                    d->have |= 1 << k;
            }
    } else if (strcmp(name, "object") == 0) {
        if (d->n_objects == d->cap) {
            int cap = d->cap ? 2 * d->cap : 16;
            void *a = sscma_mrealloc(d->ctx, d->objects, (size_t)cap * sizeof *d->objects);
            if (a != NULL)
                d->objects = a;
            void *b = sscma_mrealloc(d->ctx, d->difficult_flags, (size_t)cap * sizeof *d->difficult_flags);
            if (b != NULL)
                d->difficult_flags = b;
            void *c = sscma_mrealloc(d->ctx, d->names, (size_t)cap * sizeof *d->names);
            if (c != NULL)
                d->names = c;
            if (a == NULL || b == NULL || c == NULL) {
                d->oom = true;
                d->depth--;
                return;
            }
            d->cap = cap;
        }
        memcpy(d->objects[d->n_objects], d->box, sizeof d->box);
        d->difficult_flags[d->n_objects] = d->have == 15 ? d->difficult : -1; /* -1: incomplete box */
        snprintf(d->names[d->n_objects], sizeof d->names[0], "%s", d->name);
        d->n_objects++;
    }
    d->depth--;
    d->text_len = 0;
    d->text[0] = '\0';
}

static void free_doc(voc_doc *d)
{
    sscma_mfree(d->ctx, d->objects);
    sscma_mfree(d->ctx, d->difficult_flags);
    sscma_mfree(d->ctx, d->names);
}

static sscma_status parse_file(const char *path, voc_doc *d)
{
    FILE *f = NULL;
    sscma_status ost = sscma_open_regular(path, &f); /* a FIFO or a device is refused, not waited on */
    if (ost != SSCMA_OK)
        return ost;
    XML_Parser p = XML_ParserCreate(NULL);
    if (p == NULL) {
        fclose(f);
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, path, "cannot create an XML parser");
    }
    XML_SetUserData(p, d);
    XML_SetElementHandler(p, on_start, on_end);
    XML_SetCharacterDataHandler(p, on_text);
    sscma_status st = SSCMA_OK;
    char buf[8192];
    for (;;) {
        size_t n = fread(buf, 1, sizeof buf, f);
        int last = n < sizeof buf;
        if (XML_Parse(p, buf, (int)n, last) == XML_STATUS_ERROR) {
            st = sscma_fail(SSCMA_ERR_FORMAT, path, "line %lu, column %lu: %s", (unsigned long)XML_GetCurrentLineNumber(p),
                            (unsigned long)XML_GetCurrentColumnNumber(p), XML_ErrorString(XML_GetErrorCode(p)));
            break;
        }
        if (last)
            break;
    }
    XML_ParserFree(p);
    fclose(f);
    if (st == SSCMA_OK && d->oom)
        st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, path, "cannot store the objects");
    return st;
}

typedef struct voc_cfg {
    const char *data_root, *ann_file;
    json_t *classes;
    bool strict, skip_difficult, skip_unknown;
} voc_cfg;

/* max_pixels and indices are read by dataset.c for every format */
static const sscma_field voc_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_STRING(voc_cfg, data_root, NULL),
    SSCMA_FIELD_STRING(voc_cfg, ann_file, NULL),
    SSCMA_FIELD_KEY("data_prefix"),
    SSCMA_FIELD_JSON_AS("classes", voc_cfg, classes),
    SSCMA_FIELD_KEY("max_pixels"),
    SSCMA_FIELD_KEY("indices"),
    SSCMA_FIELD_KEY("on_defect"),
    SSCMA_FIELD(voc_cfg, strict, false),
    SSCMA_FIELD(voc_cfg, skip_difficult, false),
    SSCMA_FIELD(voc_cfg, skip_unknown, false),
    SSCMA_FIELD_END,
};

sscma_status sscma_voc_open(sscma_dataset *ds, json_t *config)
{
    voc_cfg cfg;
    if (sscma_schema_read(voc_fields, config, "VOCDataset", NULL, &cfg) != SSCMA_OK)
        return SSCMA_ERR_CONFIG;
    const char *root = cfg.data_root, *ann_file = cfg.ann_file;
    if (root == NULL)
        return sscma_schema_expected("VOCDataset", NULL, "data_root", "the folder with Annotations/ and JPEGImages/",
                                     NULL);
    bool strict = cfg.strict, skip_difficult = cfg.skip_difficult, skip_unknown = cfg.skip_unknown;
    sscma_strlist names = {.ctx = ds->ctx}, xmls = {.ctx = ds->ctx};
    sscma_status st = SSCMA_OK;
    json_t *classes = cfg.classes;
    if (classes != NULL) {
        st = sscma_class_list(classes, &names);
    } else {
        for (size_t i = 0; st == SSCMA_OK && i < sizeof voc_classes / sizeof *voc_classes; i++)
            if (!sscma_strlist_push(&names, voc_classes[i]))
                st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, "dataset", "cannot copy the class names");
    }
    char path[4096];
    if (st == SSCMA_OK && ann_file != NULL) { /* the id list */
        snprintf(path, sizeof path, "%s/%s", root, ann_file);
        FILE *f = NULL;
        st = sscma_open_regular_as(path, "the id list", &f);
        char line[1024];
        while (st == SSCMA_OK && fgets(line, sizeof line, f) != NULL) {
            char *id = strtok(line, " \t\r\n");
            char xml[4200];
            if (id == NULL)
                continue;
            snprintf(xml, sizeof xml, "%s/Annotations/%s.xml", root, id);
            if (!sscma_strlist_push(&xmls, xml))
                st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, path, "cannot list the ids");
        }
        if (f != NULL)
            fclose(f);
    } else if (st == SSCMA_OK) {
        snprintf(path, sizeof path, "%s/Annotations", root);
        st = sscma_scan_files(path, ".xml", &xmls, 0);
    }
    if (st == SSCMA_OK && xmls.count == 0)
        st = sscma_fail(SSCMA_ERR_FORMAT, root, "no annotation: an empty dataset");
    if (st == SSCMA_OK) {
        ds->n_classes = (int32_t)names.count;
        ds->class_names = names.items;
        names.items = NULL, names.count = 0;
        ds->paths = sscma_calloc(ds->ctx, (size_t)xmls.count, sizeof *ds->paths);
        ds->img_size = sscma_calloc(ds->ctx, (size_t)xmls.count * 2, sizeof *ds->img_size);
        ds->ann_start = sscma_calloc(ds->ctx, (size_t)xmls.count + 1, sizeof *ds->ann_start);
        if (ds->paths == NULL || ds->img_size == NULL || ds->ann_start == NULL)
            st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, root, "cannot list %lld samples", (long long)xmls.count);
        else
            ds->size = xmls.count;
    }
    int64_t n_boxes = 0, cap = 0, kept = 0; /* with on_defect "skip", a sample with a defect is left out */
    for (int64_t i = 0; st == SSCMA_OK && i < xmls.count; i++) {
        const char *xml = xmls.items[i];
        voc_doc *d = sscma_calloc(ds->ctx, 1, sizeof *d);
        if (d == NULL) {
            st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, xml, "cannot parse");
            break;
        }
        d->ctx = ds->ctx;
        bool ok = false;
        st = parse_file(xml, d);
        if (st != SSCMA_OK && st != SSCMA_ERR_OUT_OF_MEMORY && ds->skip_defects) {
            /* the parser's message already names the file: list it as it is */
            char detail[800];
            size_t xl = strlen(xml);
            const char *msg = sscma_last_error();
            snprintf(detail, sizeof detail, "%s", strncmp(msg, xml, xl) == 0 && msg[xl] == ':' ? msg + xl + 2 : msg);
            st = sscma_dataset_defect(ds, st, xml, "%s", detail);
        } else if (st == SSCMA_OK && d->filename[0] == '\0') {
            st = sscma_dataset_defect(ds, SSCMA_ERR_FORMAT, xml, "no <filename>");
        } else if (st == SSCMA_OK && !(d->width >= 1 && d->height >= 1 && d->width < 1e6 && d->height < 1e6)) {
            st = sscma_dataset_defect(ds, SSCMA_ERR_FORMAT, xml, "<size> needs a positive <width> and <height>");
        } else if (st == SSCMA_OK && d->width * d->height > (double)ds->max_pixels) { /* both < 1e6: exact */
            st = sscma_dataset_defect(ds, SSCMA_ERR_UNSUPPORTED, xml, "<size> %g x %g pixels is over the limit of "
                                      "%lld (max_pixels)", d->width, d->height, (long long)ds->max_pixels);
        } else if (st == SSCMA_OK) {
            size_t len = strlen(root) + strlen(d->filename) + 16;
            if ((ds->paths[kept] = sscma_malloc(ds->ctx, len)) == NULL) {
                st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, xml, "cannot copy a path");
            } else {
                snprintf(ds->paths[kept], len, "%s/JPEGImages/%s", root, d->filename);
                if (access(ds->paths[kept], R_OK) != 0) {
                    st = sscma_dataset_defect(ds, SSCMA_ERR_IO, xml, "image file %s is missing", ds->paths[kept]);
                    sscma_mfree(ds->ctx, ds->paths[kept]);
                    ds->paths[kept] = NULL;
                } else {
                    ok = true;
                }
            }
            ds->img_size[2 * kept] = (int32_t)d->width, ds->img_size[2 * kept + 1] = (int32_t)d->height;
        }
        for (int k = 0; ok && st == SSCMA_OK && k < d->n_objects; k++) {
            const double *b = d->objects[k];
            int32_t label = -1;
            for (int32_t c = 0; c < ds->n_classes && label < 0; c++)
                if (strcmp(ds->class_names[c], d->names[k]) == 0)
                    label = c;
            /* a defect of one object: the open's error, or with on_defect "skip" listed and the object left out */
            if (label < 0 && !skip_unknown) {
                st = sscma_dataset_defect(ds, SSCMA_ERR_FORMAT, xml, "object %d: class '%s' is not in the classes", k,
                                          d->names[k]);
                continue;
            }
            if (d->difficult_flags[k] < 0) {
                st = sscma_dataset_defect(ds, SSCMA_ERR_FORMAT, xml, "object %d (%s): <bndbox> needs numeric xmin, "
                                          "ymin, xmax, ymax", k, d->names[k]);
                continue;
            }
            if (label < 0 || (skip_difficult && d->difficult_flags[k] == 1))
                continue;
            if (b[2] <= b[0] || b[3] <= b[1]) {
                st = sscma_dataset_defect(ds, SSCMA_ERR_FORMAT, xml, "object %d (%s): box of non-positive size", k,
                                          d->names[k]);
                continue;
            }
            double x1 = b[0], y1 = b[1], x2 = b[2], y2 = b[3];
            if (x1 < 0 || y1 < 0 || x2 > d->width || y2 > d->height) {
                if (strict) {
                    st = sscma_fail(SSCMA_ERR_FORMAT, xml, "object %d (%s): box [%g, %g, %g, %g] leaves the %g x %g "
                                    "image", k, d->names[k], x1, y1, x2, y2, d->width, d->height);
                    break;
                }
                ds->boxes_clipped++;
                if (ds->skip_defects) /* a check lists it with the others */
                    (void)sscma_dataset_defect(ds, SSCMA_OK, xml, "object %d (%s): box [%g, %g, %g, %g] leaves the "
                                               "%g x %g image: clipped", k, d->names[k], x1, y1, x2, y2, d->width,
                                               d->height);
                x1 = fmax(x1, 0), y1 = fmax(y1, 0), x2 = fmin(x2, d->width), y2 = fmin(y2, d->height);
                if (x2 <= x1 || y2 <= y1)
                    continue;
            }
            if (n_boxes == cap) {
                int64_t grown = cap ? 2 * cap : 256;
                float *boxes = sscma_mrealloc(ds->ctx, ds->boxes, (size_t)grown * 4 * sizeof *boxes);
                if (boxes != NULL)
                    ds->boxes = boxes;
                int32_t *labels = sscma_mrealloc(ds->ctx, ds->box_labels, (size_t)grown * sizeof *labels);
                if (labels != NULL)
                    ds->box_labels = labels;
                if (boxes == NULL || labels == NULL) {
                    st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, xml, "cannot store the boxes");
                    break;
                }
                cap = grown;
            }
            float *o = ds->boxes + 4 * n_boxes;
            o[0] = (float)x1, o[1] = (float)y1, o[2] = (float)x2, o[3] = (float)y2;
            ds->box_labels[n_boxes++] = label;
        }
        if (ok)
            ds->ann_start[++kept] = n_boxes;
        free_doc(d);
        sscma_mfree(ds->ctx, d);
    }
    if (st == SSCMA_OK && kept < ds->size) {
        ds->size = kept;
        if (kept == 0)
            st = sscma_fail(SSCMA_ERR_FORMAT, root, "no sample is left: every one has a defect (sscma dataset check "
                            "lists them)");
    }
    if (st == SSCMA_OK && ds->boxes == NULL) {
        ds->boxes = sscma_malloc(ds->ctx, 4 * sizeof *ds->boxes);
        ds->box_labels = sscma_malloc(ds->ctx, sizeof *ds->box_labels);
    }
    if (st == SSCMA_OK && ds->boxes_clipped > 0)
        sscma_logf(ds->ctx, SSCMA_LOG_WARNING, "%s: %lld boxes clipped to their image", root,
                   (long long)ds->boxes_clipped);
    sscma_strlist_free(&xmls);
    sscma_strlist_free(&names);
    ds->kind = DATASET_BOXES;
    return st;
}
