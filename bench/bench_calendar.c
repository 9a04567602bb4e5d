/* Benchmark: cc_calendar_add_working_days over many random (date, N) pairs.
 *
 * Generates the pairs deterministically from a seed (splitmix64), dates
 * uniform over 2018-01-01..2028-12-31 and N uniform over 0..60, loads the
 * division's calendar from the holiday directory, times the whole batch
 * (best of --runs), and writes the pairs and the answers to a binary file for
 * bench_calendar_numpy.py, which checks them against numpy.busday_offset.
 *
 * Output file (all little-endian):
 *   char     magic[8]  "CCBCAL01"
 *   uint64   count     pairs
 *   uint64   best_ns   best wall time of one pass over all pairs
 *   uint64   uncovered answers that came back CC_EUNCOVERED
 *   int32    date[count]    days since 1970-01-01
 *   int32    n[count]       working days to add
 *   int32    result[count]  days since 1970-01-01
 *
 * usage: bench_calendar [--pairs N] [--seed S] [--runs R]
 *                       [--holidays DIR] [--division NAME] --out FILE
 */
#include "careclock/calendar.h"
#include "careclock/holidays.h"
#include "careclock/date.h"
#include "careclock/error.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "bench_calendar writes its arrays in host order and assumes a little-endian host"
#endif

#define FIRST_YEAR 2018
#define LAST_YEAR 2028
#define MAX_N 60

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in 0..bound-1 from the top 32 bits (multiply-shift; the bias is
 * below 2^-20 for the bounds used here). */
static uint32_t below(uint64_t *state, uint32_t bound)
{
    return (uint32_t)(((splitmix64(state) >> 32) * (uint64_t)bound) >> 32);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int write_all(FILE *f, const void *p, size_t size, size_t count)
{
    return fwrite(p, size, count, f) == count ? 0 : -1;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_calendar [--pairs N] [--seed S] [--runs R] [--holidays DIR] "
                    "[--division NAME] --out FILE\n");
}

int main(int argc, char **argv)
{
    size_t count = 10000000;
    uint64_t seed = 20260101;
    int runs = 5;
    const char *holidays = "../config/holidays";
    const char *division = "england-and-wales";
    const char *outpath = NULL;

    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a];
        const char *val = a + 1 < argc ? argv[a + 1] : NULL;
        if (val == NULL) {
            usage();
            return 2;
        }
        if (strcmp(arg, "--pairs") == 0)
            count = (size_t)strtoull(val, NULL, 10);
        else if (strcmp(arg, "--seed") == 0)
            seed = strtoull(val, NULL, 0);
        else if (strcmp(arg, "--runs") == 0)
            runs = atoi(val);
        else if (strcmp(arg, "--holidays") == 0)
            holidays = val;
        else if (strcmp(arg, "--division") == 0)
            division = val;
        else if (strcmp(arg, "--out") == 0)
            outpath = val;
        else {
            usage();
            return 2;
        }
        a++;
    }
    if (outpath == NULL || count == 0 || count > INT32_MAX || runs < 1) {
        usage();
        return 2;
    }

    char err[512];
    cc_calendar_t *cal = NULL;
    int rc = cc_holidays_open(holidays, division, NULL, 0, &cal, err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "bench_calendar: %s\n", err);
        return 1;
    }
    int cov_first, cov_last;
    cc_calendar_coverage(cal, &cov_first, &cov_last);

    int32_t *dates = malloc(count * sizeof(int32_t));
    int32_t *ns = malloc(count * sizeof(int32_t));
    int32_t *results = malloc(count * sizeof(int32_t));
    if (dates == NULL || ns == NULL || results == NULL) {
        fprintf(stderr, "bench_calendar: out of memory for %zu pairs\n", count);
        return 1;
    }
    const cc_date_t first = cc_date_from_ymd(FIRST_YEAR, 1, 1);
    const uint32_t span = (uint32_t)(cc_date_from_ymd(LAST_YEAR + 1, 1, 1) - first);
    uint64_t state = seed;
    for (size_t i = 0; i < count; i++) {
        dates[i] = first + (int32_t)below(&state, span);
        ns[i] = (int32_t)below(&state, MAX_N + 1);
    }

    printf("careclock: %s calendar, holidays cover %d-%d\n", division, cov_first, cov_last);
    printf("careclock: %zu pairs, seed %" PRIu64 ", dates %d-01-01..%d-12-31, N 0..%d\n", count, seed, FIRST_YEAR,
           LAST_YEAR, MAX_N);

    /* One untimed pass to fault in the output pages and warm the tables;
     * then the timed passes. Every pass recomputes every answer. */
    uint64_t best = UINT64_MAX, checksum = 0, first_checksum = 0;
    size_t uncovered = 0, failed = 0;
    for (int r = 0; r <= runs; r++) {
        uint64_t sum = 0;
        size_t unc = 0, bad = 0;
        uint64_t t0 = now_ns();
        for (size_t i = 0; i < count; i++) {
            int s = cc_calendar_add_working_days(cal, dates[i], ns[i], &results[i]);
            unc += s == CC_EUNCOVERED;
            bad += s != 0 && s != CC_EUNCOVERED;
            sum += (uint32_t)results[i];
        }
        uint64_t t1 = now_ns();
        if (r == 0) {
            first_checksum = sum;
            uncovered = unc;
            failed = bad;
            continue;
        }
        if (sum != first_checksum || unc != uncovered || bad != failed) {
            fprintf(stderr, "bench_calendar: pass %d disagrees with the first pass\n", r);
            return 1;
        }
        checksum = sum;
        uint64_t dt = t1 - t0;
        printf("careclock: run %d: %.3f s, %.2f ns/op\n", r, (double)dt / 1e9, (double)dt / (double)count);
        if (dt < best)
            best = dt;
    }
    printf("careclock: best of %d: %.2f ns/op (checksum %" PRIu64 ")\n", runs, (double)best / (double)count,
           checksum);
    printf("careclock: %zu of %zu answers outside the covered years (CC_EUNCOVERED, counted as success)\n",
           uncovered, count);
    if (failed != 0) {
        fprintf(stderr, "bench_calendar: %zu pairs failed with an error other than CC_EUNCOVERED\n", failed);
        return 1;
    }

    FILE *f = fopen(outpath, "wb");
    if (f == NULL) {
        perror(outpath);
        return 1;
    }
    uint64_t header[3] = {(uint64_t)count, best, (uint64_t)uncovered};
    if (write_all(f, "CCBCAL01", 1, 8) != 0 || write_all(f, header, sizeof(uint64_t), 3) != 0 ||
        write_all(f, dates, sizeof(int32_t), count) != 0 || write_all(f, ns, sizeof(int32_t), count) != 0 ||
        write_all(f, results, sizeof(int32_t), count) != 0 || fclose(f) != 0) {
        perror(outpath);
        return 1;
    }

    free(dates);
    free(ns);
    free(results);
    cc_calendar_free(cal);
    return 0;
}
