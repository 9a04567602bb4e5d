/* SVG bar charts. See include/careclock/svgchart.h.
 *
 * Design notes: a fixed viewBox that scales to the page's width (the svg
 * element is width 100%, height auto), so nothing depends on the browser;
 * text in the page's font through the stylesheet (class cc-chart); GOV.UK
 * blue (#1d70b8, 5.2:1 on white) for bars, #0b0c0c for text, #505a5f
 * (7:1) for the axis. Vertical charts with many bars label every k-th so
 * that labels never overlap; every bar still carries its value in a
 * <title> (a tooltip) and the table after the chart lists them all.
 */
#include "careclock/svgchart.h"
#include "careclock/error.h"
#include "careclock/html.h"

#undef NDEBUG
#include <assert.h>
#include <stdio.h>

#define WIDTH 760
#define BAR_BLUE "#1d70b8"
#define INK "#0b0c0c"
#define AXIS "#505a5f"

static void heading(cc_buf_t *out, const cc_chart_t *c, int height)
{
    cc_buf_printf(out, "<svg class=\"cc-chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                       "role=\"img\" aria-labelledby=\"",
                  WIDTH, height);
    cc_html_id(out, c->id);
    cc_buf_puts(out, "-title ");
    cc_html_id(out, c->id);
    cc_buf_puts(out, "-desc\" focusable=\"false\"><title id=\"");
    cc_html_id(out, c->id);
    cc_buf_puts(out, "-title\">");
    cc_html_text(out, c->title);
    cc_buf_puts(out, "</title><desc id=\"");
    cc_html_id(out, c->id);
    cc_buf_puts(out, "-desc\">");
    cc_html_text(out, c->desc);
    cc_buf_puts(out, "</desc>");
}

static double scaled(double value, double max, double length)
{
    if (value <= 0 || max <= 0)
        return 0;
    return (value > max ? max : value) / max * length;
}

static void bar_title(cc_buf_t *out, const cc_chart_bar_t *b)
{
    cc_buf_puts(out, "<title>");
    cc_html_text(out, b->label);
    cc_buf_puts(out, ": ");
    cc_html_text(out, b->value_text);
    cc_buf_puts(out, "</title>");
}

static void horizontal(cc_buf_t *out, const cc_chart_t *c, const cc_chart_bar_t *bars, size_t n)
{
    const int row = 30, top = 10, label_w = 330, plot_w = WIDTH - label_w - 90;
    int height = top * 2 + row * (int)n + 20;
    heading(out, c, height);
    for (size_t i = 0; i < n; i++) {
        const cc_chart_bar_t *b = &bars[i];
        int y = top + row * (int)i;
        double w = scaled(b->value, c->max, plot_w);
        cc_buf_printf(out, "<g><text x=\"%d\" y=\"%d\" text-anchor=\"end\" fill=\"%s\">", label_w - 8, y + 19, INK);
        cc_html_text(out, b->label);
        cc_buf_puts(out, "</text>");
        if (b->value >= 0)
            cc_buf_printf(out, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\">", label_w, y + 4,
                          w, row - 8, BAR_BLUE);
        else
            cc_buf_printf(out, "<rect x=\"%d\" y=\"%d\" width=\"0\" height=\"%d\" fill=\"%s\">", label_w, y + 4,
                          row - 8, BAR_BLUE);
        bar_title(out, b);
        cc_buf_printf(out, "</rect><text x=\"%.1f\" y=\"%d\" fill=\"%s\">", label_w + w + 6, y + 19, INK);
        cc_html_text(out, b->value_text);
        cc_buf_puts(out, "</text></g>");
    }
    /* The axis: where the bars start, and the scale's top. */
    cc_buf_printf(out,
                  "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"/>"
                  "<text x=\"%d\" y=\"%d\" fill=\"%s\" text-anchor=\"middle\">0</text>"
                  "<text x=\"%d\" y=\"%d\" fill=\"%s\" text-anchor=\"middle\">%g</text>",
                  label_w, top, label_w, top + row * (int)n, AXIS, label_w, height - 4, AXIS, label_w + plot_w,
                  height - 4, AXIS, c->max);
    cc_buf_puts(out, "</svg>");
}

static void vertical(cc_buf_t *out, const cc_chart_t *c, const cc_chart_bar_t *bars, size_t n)
{
    const int height = 300, left = 50, bottom = 50, top = 30, plot_h = height - bottom - top;
    const int plot_w = WIDTH - left - 10;
    double slot = n ? (double)plot_w / (double)n : plot_w;
    size_t every = 1;
    while (slot * (double)every < 80) /* about 80 units per label */
        every++;
    heading(out, c, height);
    /* Scale: 0, half, max, with faint guide lines. */
    for (int k = 0; k <= 2; k++) {
        double y = top + plot_h - plot_h * k / 2.0;
        cc_buf_printf(out,
                      "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"%d\"/>"
                      "<text x=\"%d\" y=\"%.1f\" fill=\"%s\" text-anchor=\"end\">%g</text>",
                      left, y, left + plot_w, y, AXIS, k == 0 ? 2 : 1, left - 6, y + 5, AXIS, c->max * k / 2.0);
    }
    for (size_t i = 0; i < n; i++) {
        const cc_chart_bar_t *b = &bars[i];
        double h = scaled(b->value, c->max, plot_h), x = left + slot * (double)i + slot * 0.15, w = slot * 0.7;
        cc_buf_printf(out, "<g><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">", x,
                      top + plot_h - h, w, h, BAR_BLUE);
        bar_title(out, b);
        cc_buf_puts(out, "</rect>");
        if (n <= 24) {
            cc_buf_printf(out, "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\" text-anchor=\"middle\">", x + w / 2,
                          top + plot_h - h - 6, INK);
            cc_html_text(out, b->value_text);
            cc_buf_puts(out, "</text>");
        }
        if (i % every == 0) {
            cc_buf_printf(out, "<text x=\"%.1f\" y=\"%d\" fill=\"%s\" text-anchor=\"middle\">", x + w / 2,
                          top + plot_h + 22, INK);
            cc_html_text(out, b->label);
            cc_buf_puts(out, "</text>");
        }
        cc_buf_puts(out, "</g>");
    }
    cc_buf_puts(out, "</svg>");
}

int cc_chart_bars(cc_buf_t *out, const cc_chart_t *chart, const cc_chart_bar_t *bars, size_t n)
{
    assert(out != NULL && chart != NULL && (bars != NULL || n == 0) && chart->id != NULL);
    if (n == 0) {
        heading(out, chart, 40);
        cc_buf_printf(out, "<text x=\"10\" y=\"25\" fill=\"%s\">No figures for this period.</text></svg>", INK);
    } else if (chart->horizontal) {
        horizontal(out, chart, bars, n);
    } else {
        vertical(out, chart, bars, n);
    }
    return out->failed ? CC_ENOMEM : 0;
}
