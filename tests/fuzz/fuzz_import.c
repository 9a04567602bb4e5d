/* Fuzz target: the SSDA903 import's pure half: three CSV files (header,
 * episodes, reviews) recognised, every row checked, children, episodes and
 * reviews mapped to events (cc_import_add_file, cc_import_map), and the
 * source keys and attributes JSON each event would be written with.
 * Input: NUL-separated fields: header file, episodes file, reviews file,
 * a number (days before 2026-11-30 that is "today").
 * Invariants: attributes are a JSON object jansson reads back, with the
 * code as given; keys fit the buffer the database writer gives them; each
 * child's episodes are in DECOM order and its reviews in date order;
 * problems name a file, a line and a column. */
#include "fuzz_common.h"

#include "careclock/error.h"
#include "careclock/import.h"
#include "careclock/store.h"

#include <jansson.h>

static void add(cc_import_t *imp, const char *name, const char *text, size_t len)
{
    char err[512];
    cc_import_kind_t kind;
    if (len == 0)
        return;
    char *buf = malloc(len + 1);
    if (buf == NULL)
        abort();
    memcpy(buf, text, len);
    buf[len] = '\0';
    int rc = cc_import_add_file(imp, name, buf, len, &kind, err, sizeof(err));
    FZ_CHECK(rc == 0 || rc == CC_EPARSE, "add_file rc %d", rc);
    if (rc == CC_EPARSE)
        FZ_CHECK(strncmp(err, name, strlen(name)) == 0, "error does not name the file: %s", err);
}

/* The attributes of an episode's event: a JSON object holding exactly the
 * codes of the slot that the row has (docs/import.md), each intact. */
static void check_attrs(const cc_import_episode_t *ep, int slot)
{
    char attrs[CC_IMPORT_ATTRS_MAX];
    cc_import_episode_attrs(ep, slot, attrs, sizeof(attrs));
    json_error_t jerr;
    json_t *root = json_loads(attrs, JSON_REJECT_DUPLICATES, &jerr);
    FZ_CHECK(root != NULL && json_is_object(root), "attributes %s are not a JSON object: %s", attrs, jerr.text);
    const char *keys[] = {"place", "provider", "legal_status", "rec"};
    const char *codes[] = {slot == CC_IMPORT_PLACEMENT ? ep->place : NULL,
                           slot == CC_IMPORT_PLACEMENT ? ep->provider : NULL,
                           slot != CC_IMPORT_END ? ep->ls : NULL, slot == CC_IMPORT_END ? ep->rec : NULL};
    size_t want = 0;
    for (size_t k = 0; k < 4; k++) {
        if (codes[k] == NULL || codes[k][0] == '\0')
            continue;
        want++;
        json_t *v = json_object_get(root, keys[k]);
        FZ_CHECK(json_is_string(v) && strcmp(json_string_value(v), codes[k]) == 0,
                 "attributes %s lose the code \"%s\"", attrs, codes[k]);
    }
    FZ_CHECK(json_object_size(root) == want, "attributes %s hold %zu keys, not %zu", attrs, json_object_size(root),
             want);
    json_decref(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_t f;
    fz_init(&f, data, size);
    size_t i0 = f.next;
    const char *header = fz_str(&f), *episodes = fz_str(&f), *reviews = fz_str(&f);
    size_t lh = i0 < f.n ? f.len[i0] : 0, le = i0 + 1 < f.n ? f.len[i0 + 1] : 0, lr = i0 + 2 < f.n ? f.len[i0 + 2] : 0;
    cc_date_t today = cc_date_from_ymd(2026, 11, 30) - (cc_date_t)(fz_num(&f) % 4000);
    cc_import_t imp;
    char err[512], key[CC_STORE_ID_MAX + 64];
    cc_import_init(&imp, today);
    add(&imp, "header.csv", header, lh);
    add(&imp, "episodes.csv", episodes, le);
    add(&imp, "reviews.csv", reviews, lr);
    int rc = cc_import_map(&imp, err, sizeof(err));
    FZ_CHECK(rc == 0 || rc == CC_EINVAL || rc == CC_EPARSE, "map rc %d", rc);
    if (rc == 0) {
        for (size_t p = 0; p < imp.nproblems; p++)
            FZ_CHECK(imp.problems[p].file && imp.problems[p].line >= 1 && imp.problems[p].message,
                     "a problem without a place");
        for (size_t c = 0; c < imp.nchildren; c++) {
            const cc_import_child_t *ch = &imp.children[c];
            FZ_CHECK(strlen(ch->id) <= CC_STORE_ID_MAX, "child id of %zu bytes", strlen(ch->id));
            for (size_t k = 0; k < ch->nepisodes; k++) {
                const cc_import_episode_t *ep = &imp.episodes[ch->first_episode + k];
                FZ_CHECK(ep->child == c, "episode of another child");
                if (k > 0)
                    FZ_CHECK(imp.episodes[ch->first_episode + k - 1].decom <= ep->decom, "episodes out of order");
                for (int slot = 0; slot < CC_IMPORT_SLOTS; slot++) {
                    FZ_CHECK(cc_import_episode_key(key, sizeof(key), ch->id, ep->decom, slot) != NULL,
                             "episode key does not fit");
                    if (ep->has[slot])
                        check_attrs(ep, slot);
                }
            }
            for (size_t k = 0; k < ch->nreviews; k++) {
                const cc_import_review_t *rv = &imp.reviews[ch->first_review + k];
                FZ_CHECK(rv->child == c, "review of another child");
                if (k > 0)
                    FZ_CHECK(imp.reviews[ch->first_review + k - 1].date <= rv->date, "reviews out of order");
                FZ_CHECK(cc_import_review_key(key, sizeof(key), ch->id, rv->date) != NULL, "review key does not fit");
            }
        }
    }
    cc_import_free(&imp);
    fz_free(&f);
    return 0;
}
