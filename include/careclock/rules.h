/* Statutory rule sets: what starts each clock, how its due date is
 * computed, what meets it, when it applies and when it is cancelled.
 *
 * Rule files are INI (parsed with inih; read by config/rulefiles.c,
 * careclock/rulefiles.h); the language is documented in
 * docs/rules.md and config/rules/england.rules is the default set. Several
 * files load in order and a later file overrides an earlier one rule by rule
 * (key by key within a rule), so a council's file can change one number or
 * add a clock without copying the rest. A ruleset is immutable once loaded.
 */
#ifndef CARECLOCK_RULES_H
#define CARECLOCK_RULES_H

#include "careclock/offset.h"

#include <stddef.h>

typedef struct cc_ruleset cc_ruleset_t;

/* The stable rule ids of the default set. */
#define CC_RULE_ID_MAX 48

typedef enum {
    CC_PER_EVENT,     /* one clock per occurrence of the starting event */
    CC_PER_EPISODE,   /* one clock per episode of care: its first starting event */
    CC_PER_PLACEMENT, /* one per starting event, ended (cancelled if not yet due) when its placement ends: the
                         next placement_start, whatever it is */
    CC_PER_SERIES     /* one per series of episodes whose starting events meet applies (short breaks): later
                         starts continue it; it ends at a start that does not meet applies, or series_gap
                         after the end of its last episode when no other began */
} cc_per_t;

/* A condition on an event (the starting event, or the cancelling one for
 * cancel_on): an attribute value (key=value, key!=value; an attribute the
 * event lacks is "not equal"; value may list alternatives, V3|V4), the
 * child's age on a date, or (in then_if only) the time since the chain's
 * starting event or whether an event of a type happened since it.
 *
 * A key the [events] section declares a state attribute (state =
 * legal_status, place, ...) is judged on the child's state on the day, not
 * on the event alone: the event's own value when it records one, else the
 * value recorded by the latest event on or before the day within the same
 * episode of care (a legal status recorded when care began holds until a
 * legal_status_change; a placement's place until the next placement).
 * "prev.KEY" (state attributes only) is the value just before the event. */
typedef enum {
    CC_COND_NONE,
    CC_COND_ATTR,     /* key=value */
    CC_COND_AGE_LT,   /* age<N */
    CC_COND_AGE_GE,   /* age>=N */
    CC_COND_ATTR_NE,  /* key!=value */
    CC_COND_SINCE_GE, /* since>=OFFSET: the date judged is at least OFFSET after the chain's starting event */
    CC_COND_AFTER     /* after=TYPE: an event of that type on or after the chain's starting event and on or
                         before the date judged (then_if only) */
} cc_cond_kind_t;

/* Longest value text of a condition, alternatives included ("A3|A4|A5|A6"). */
#define CC_COND_VALUE_MAX 96

typedef struct {
    cc_cond_kind_t kind;
    char key[32];      /* CC_COND_ATTR*: attribute name; CC_COND_AFTER: the event type's name */
    char value[CC_COND_VALUE_MAX]; /* CC_COND_ATTR*: the value, or alternatives joined by | */
    int age;           /* CC_COND_AGE_*: years */
    cc_offset_t since; /* CC_COND_SINCE_GE */
    int state;         /* CC_COND_ATTR*: key is a state attribute (judged on the child's state on the day) */
    int prev;          /* CC_COND_ATTR* on a state attribute: the state just before the event ("prev.place") */
    int type;          /* CC_COND_AFTER: the event type index */
} cc_cond_t;

#define CC_INTERVAL_MAX_CONDS 4

/* A due-date computation: an offset from a date, under conditions that must
 * all hold (nwhen == 0: always). */
typedef struct {
    cc_cond_t when[CC_INTERVAL_MAX_CONDS];
    int nwhen;
    cc_offset_t offset;
} cc_interval_t;

/* Which meeting events dated before an instance's start meet it. */
typedef enum {
    CC_EARLY_NO,      /* none */
    CC_EARLY_EPISODE, /* from the start of the instance's episode of care (any date when it has none) */
    CC_EARLY_WINDOW   /* from early_window before the start (or the episode's start, if earlier), but never
                         on or before the end of the child's previous episode of care */
} cc_early_t;

/* The largest offset a rule may state, per unit (five years): larger ones
 * cannot be meant and `rules check` refuses them. */
#define CC_RULE_MAX_WD 1300
#define CC_RULE_MAX_DAYS 1830
#define CC_RULE_MAX_WEEKS 260
#define CC_RULE_MAX_MONTHS 60

#define CC_RULE_MAX_IFS 4
#define CC_RULE_MAX_TYPES 8
#define CC_RULE_MAX_STAGES 8
#define CC_RULE_MAX_CANCELS 4
#define CC_RULE_MAX_APPLIES 8
/* except_reasons: at most this many codes, each shorter than CC_RULE_REASON_MAX. */
#define CC_RULE_MAX_REASONS 8
#define CC_RULE_REASON_MAX 32
/* An hours offset (due = +72h) may be at most a year of hours. */
#define CC_RULE_MAX_HOURS 8760

/* A further cancel_on of a rule (the first is cancel_type, cancel_when and
 * cancel_reason of cc_rule_t): the event type, the conditions on it, and
 * the reason in words (NULL: the rule's own, else the default). */
typedef struct {
    int type;
    cc_cond_t when[CC_RULE_MAX_IFS];
    int nwhen;
    char *reason;
} cc_cancel_t;

/* A start the engine derives from the episodes of care instead of an event
 * (starts_when = looked_after 13w since_age=14 age>=16 age<18
 * legal_status!=V3|V4): the first day on which the child is looked after,
 * has been looked after for days in all (counted from their since_age
 * birthday, in episodes whose start meets when), and is of age on that
 * day. The CPPCR reg 40 "eligible child". */
typedef struct {
    int active;
    cc_offset_t total;    /* as written (13w); days is its length in days */
    int days;
    int since_age;        /* count from this birthday (0: from birth) */
    int min_age, max_age; /* age on the day: >= min_age, < max_age (max_age 0: no bound) */
    cc_cond_t when[CC_RULE_MAX_IFS]; /* on each episode's start: an episode failing one is not counted */
    int nwhen;
} cc_threshold_t;

/* Who a reminder or escalation goes to. */
typedef enum { CC_ROLE_WORKER, CC_ROLE_IRO, CC_ROLE_TEAM_MANAGER, CC_ROLE_SERVICE_MANAGER, CC_ROLE_TEAM_WEBHOOK } cc_role_t;

/* A role as a bit of a set of roles (cc_rule_t.extend_roles, ...). */
#define CC_ROLE_BIT(role) (1u << (unsigned)(role))

/* One reminder or escalation stage: offset from the due date, recipient role,
 * and whether it goes at once instead of in the next digest. */
typedef struct {
    cc_offset_t offset;
    cc_role_t role;
    int immediate;
} cc_stage_t;

typedef struct {
    char id[CC_RULE_ID_MAX];
    char *title;          /* "Care plan" */
    char *source;         /* "CPPCR 2010 reg 4(2); local guidance" */
    char *file;           /* the file and line where the rule was (last) defined */
    int line;
    int start_type;       /* event type index that starts the clock (the first of start_types); -1 for a
                             starts_when rule */
    int start_types[CC_RULE_MAX_TYPES]; /* every type that starts it (starts_on = a, b) */
    int nstart_types;
    cc_threshold_t starts_when; /* a derived start instead (active), see cc_threshold_t */
    cc_per_t per;
    cc_offset_t series_gap; /* CC_PER_SERIES: a series ends this long after its last episode (default 6m) */
    char *regime;         /* the regime the clock belongs to, in words ("Short breaks (CPPCR 2010 reg 48)"), or
                             NULL; explain says it and why it applies */
    int local;            /* a local standard (a council's procedure, not a regulation): [options]
                             local_standards = no switches every such rule off */
    /* Due date: anchor_rule >= 0 means "the date of instance anchor_seq of
     * that rule in the same episode" (held date if met, else its due date);
     * otherwise due = start + due_if[i] for the first matching condition,
     * else start + due. */
    cc_offset_t due;
    int due_hours;        /* > 0: due this many hours after the start (at the starting event's time=HH:MM, else
                             the start of its day); the due date is the day the last hour falls in */
    int anchor_rule;
    int anchor_seq;
    cc_interval_t due_if[CC_RULE_MAX_IFS];
    int ndue_if;
    /* Recurring chains: after an instance is met, the next starts at the met
     * date and is due then[k] later (k counts the instances met so far in
     * the chain, the last interval repeating), or then_if[i] when its
     * condition holds. nthen == 0 means no chain. */
    cc_offset_t then[CC_RULE_MAX_IFS];
    int nthen;
    cc_interval_t then_if[CC_RULE_MAX_IFS];
    int nthen_if;
    int restart_cancels;  /* a new chain origin cancels the previous chain's open instance */
    int met_by[CC_RULE_MAX_TYPES];
    int nmet_by;
    cc_early_t accept_early; /* whether a meeting event may predate the start, and how far */
    cc_offset_t early_window; /* CC_EARLY_WINDOW: how far before the start */
    cc_cond_t applies[CC_RULE_MAX_APPLIES]; /* all must hold at the start */
    int napplies;
    int one_open;         /* a starting event while an instance is still unmet starts no other */
    int cancel_type;      /* event type that cancels an unmet clock due on or after it; -1 none */
    cc_cond_t cancel_when[CC_RULE_MAX_IFS]; /* all must hold on the cancelling event */
    int ncancel_when;
    int cancel_latest;    /* 1: it closes only the latest open instance started on or before it; 0: every one */
    char *cancel_reason;  /* the reason in words ("ended with the plan"), or NULL for the default */
    cc_cancel_t more_cancels[CC_RULE_MAX_CANCELS - 1]; /* cancel_on given again: the second, third, ... */
    int nmore_cancels;
    int extend_type;      /* extend_on: an event of this type moves the open instance's due date once; -1 none */
    cc_offset_t extend_offset; /* ... by this, counted from the due date (reg 25(2): 8 weeks) */
    /* Decisions about an instance (decision.h; docs/engine.md, "Decisions"): who may agree an extension
     * (extend_by), who may record an exception (except_by) and for which reasons (except_reasons), each a set
     * of CC_ROLE_BIT(role); 0: nobody. */
    unsigned extend_roles;
    unsigned except_roles;
    char except_reasons[CC_RULE_MAX_REASONS][CC_RULE_REASON_MAX];
    int nexcept_reasons;
    /* scheduled_by: events that book the meeting this clock waits for (review_scheduled); one dated after the
     * due date makes an unmet instance at_risk at once */
    int scheduled_by[CC_RULE_MAX_TYPES];
    int nscheduled_by;
    int in_care_only;     /* the start must fall inside an episode of care */
    int warn_wd;          /* due_soon window in working days */
    cc_stage_t stages[CC_RULE_MAX_STAGES];
    int nstages;
    int enabled;
} cc_rule_t;

/* One rule file's text, read by the caller (config/rulefiles.c reads the
 * files; the core reads none): name (the file's) starts each message; text
 * holds len bytes, or is NULL when the file could not be read (reported as
 * "NAME:0: cannot read rule file"). Borrowed for the call. */
typedef struct {
    const char *name;
    const char *text;
    size_t len;
} cc_rule_text_t;

/* Parse the rule files' texts in order into a new ruleset. On error returns
 * CC_EIO (a text NULL) or CC_EPARSE with "FILE:LINE: what is wrong" (the
 * first error) in err; *out is untouched. A ruleset owns all its strings;
 * free with cc_ruleset_free(). */
int cc_ruleset_parse(const cc_rule_text_t *texts, size_t nfiles, cc_ruleset_t **out, char *err, size_t errlen);

/* Validate rule files' texts, reporting every error (one per line, each
 * "FILE:LINE: message") into report. Returns the number of errors. */
int cc_ruleset_check_texts(const cc_rule_text_t *texts, size_t nfiles, cc_buf_t *report);

/* Free a ruleset; NULL is fine. */
void cc_ruleset_free(cc_ruleset_t *rs);

/* Enabled rules, in evaluation order (anchors before the rules using them). */
size_t cc_ruleset_count(const cc_ruleset_t *rs);
const cc_rule_t *cc_ruleset_rule(const cc_ruleset_t *rs, size_t i);

/* Find an enabled rule by id; NULL if none. */
const cc_rule_t *cc_ruleset_find(const cc_ruleset_t *rs, const char *id);

/* Index of a rule of rs (one that cc_ruleset_rule or cc_ruleset_find gave):
 * its position in evaluation order. */
size_t cc_ruleset_index(const cc_ruleset_t *rs, const cc_rule_t *rule);

/* The event vocabulary: the built-in types plus those the files add. */
size_t cc_ruleset_type_count(const cc_ruleset_t *rs);
const char *cc_ruleset_type_name(const cc_ruleset_t *rs, size_t i);

/* Index of an event type, or -1 if the ruleset does not know it. */
int cc_ruleset_type_index(const cc_ruleset_t *rs, const char *type);

/* 1 if events of this type may be dated after today (things scheduled,
 * such as review_scheduled), 0 if they record something that happened. */
int cc_ruleset_type_future_ok(const cc_ruleset_t *rs, int type);

/* Built-in type indexes that the engine's episode and placement logic
 * relies on. */
enum { CC_TYPE_LOOKED_AFTER_START = 0, CC_TYPE_LOOKED_AFTER_END = 1, CC_TYPE_PLACEMENT_START = 2 };

/* The state attributes the files declare ([events] state = ...): those
 * conditions judge on the child's state on the day (cc_cond_t). */
size_t cc_ruleset_state_count(const cc_ruleset_t *rs);
const char *cc_ruleset_state_name(const cc_ruleset_t *rs, size_t i);

/* 1 when rule starts on events of type (one of its start_types). */
int cc_rule_starts_on(const cc_rule_t *rule, int type);

/* Role names as written in rule files and the database. */
const char *cc_role_name(cc_role_t role);

#endif
