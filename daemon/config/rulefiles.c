/* The rule files. See include/careclock/rulefiles.h. */
#include "careclock/rulefiles.h"
#include "careclock/error.h"
#include "util/readfile.h"

#include <stdlib.h>

/* Each file's text (NULL when it cannot be read, which the parser reports
 * naming the file) into a new array of nfiles entries; NULL when out of
 * memory. Free with free_texts(). */
static cc_rule_text_t *read_texts(const char *const *files, size_t nfiles)
{
    cc_rule_text_t *texts = calloc(nfiles ? nfiles : 1, sizeof(*texts));
    if (texts == NULL)
        return NULL;
    for (size_t i = 0; i < nfiles; i++) {
        char *text = NULL;
        texts[i].name = files[i];
        if (cc__read_file(files[i], &text, &texts[i].len) == 0)
            texts[i].text = text;
    }
    return texts;
}

static void free_texts(cc_rule_text_t *texts, size_t nfiles)
{
    for (size_t i = 0; texts != NULL && i < nfiles; i++)
        free((char *)texts[i].text);
    free(texts);
}

int cc_rulefiles_load(const char *const *files, size_t nfiles, cc_ruleset_t **out, char *err, size_t errlen)
{
    cc_rule_text_t *texts = read_texts(files, nfiles);
    if (texts == NULL) {
        cc_set_err(err, errlen, "%s", cc_strerror(CC_ENOMEM));
        return CC_ENOMEM;
    }
    int rc = cc_ruleset_parse(texts, nfiles, out, err, errlen);
    free_texts(texts, nfiles);
    return rc;
}

int cc_rulefiles_check(const char *const *files, size_t nfiles, cc_buf_t *report)
{
    cc_rule_text_t *texts = read_texts(files, nfiles);
    if (texts == NULL) {
        cc_buf_puts(report, "out of memory\n");
        return 1;
    }
    int nerrors = cc_ruleset_check_texts(texts, nfiles, report);
    free_texts(texts, nfiles);
    return nerrors;
}
