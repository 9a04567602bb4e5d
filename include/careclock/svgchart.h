/* Bar charts drawn as SVG on the server, for the dashboard. Pure: values
 * in, markup out. Each chart is an image with a title and a description
 * (role="img", aria-labelledby), and states every value as text beside its
 * bar; the page puts the table of the same figures after it (WCAG 1.1.1:
 * the table is the text alternative, the chart its picture). Colours meet
 * 3:1 against white for the bars and 4.5:1 for the text (WCAG 1.4.11,
 * 1.4.3). No script, no external resource.
 */
#ifndef CARECLOCK_SVGCHART_H
#define CARECLOCK_SVGCHART_H

#include "careclock/buf.h"

#include <stddef.h>

typedef struct {
    const char *label;      /* under (vertical) or before (horizontal) the bar */
    double value;           /* 0 .. the chart's max; below 0 means "no figure" (no bar) */
    const char *value_text; /* written at the bar's end ("39.6%", "no figure") */
} cc_chart_bar_t;

typedef struct {
    const char *id;         /* unique on the page: the title's and description's ids derive from it */
    const char *title;      /* the accessible name */
    const char *desc;       /* what it shows, in words */
    int horizontal;         /* 1: one row per bar (long labels); 0: columns (periods) */
    double max;             /* the axis's top, such as 100 */
} cc_chart_t;

/* Append the chart of bars[0..n) (n may be 0: an empty chart saying so).
 * 0 or CC_ENOMEM. */
int cc_chart_bars(cc_buf_t *out, const cc_chart_t *chart, const cc_chart_bar_t *bars, size_t n);

#endif
