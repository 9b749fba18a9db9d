/* Internal interface of the output filter (outfilter.c: settings;
 * outfilter_engine.c: the streaming engine; outfilter_patterns.c: the
 * credential shapes) and the audit log (audit.c). Nothing here is exported. */
#ifndef SBX_OUTFILTER_H
#define SBX_OUTFILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

#define SBX__REDACT_MAX_VALUES 256
/* The most bytes any credential shape needs to see before it can decide. */
#define SBX__PATTERN_WINDOW    2048
/* A PEM private-key block is redacted up to its END line, or this many bytes. */
#define SBX__PEM_MAX           (64u * 1024u)
/* The Unicode classes (enum sbx_unicode_class). */
#define SBX__UNICODE_CLASSES   4

/* The names of the classes and actions in policy files, the result's JSON and
 * the tool's options, indexed by their SBX_UNICODE_* values. */
SBX__HIDDEN extern const char *const sbx__unicode_class_names[SBX__UNICODE_CLASSES];
SBX__HIDDEN extern const char *const sbx__unicode_action_names[4];

/* The output and audit settings of a policy; NULL in the policy means all
 * defaults (patterns on, escapes kept, no values, no callbacks, no audit). */
struct sbx__output_policy {
    char **values; /* owned; wiped when freed */
    size_t *lens;
    size_t n_values;
    bool patterns_off;
    int escapes; /* SBX_ESCAPES_* */
    sbx_output_fn output_fn;
    void *output_ud;
    int audit_fd; /* -1: none */
    sbx_audit_fn audit_fn;
    void *audit_ud;
    uint64_t audit_limit;                  /* bytes per child; 0: SBX_AUDIT_LIMIT_DEFAULT */
    uint8_t unicode[SBX__UNICODE_CLASSES]; /* SBX_UNICODE_* action of each class */
};

SBX__HIDDEN void sbx__output_policy_free(sbx_policy *policy);
/* The policy's settings, allocated with defaults on first use. */
SBX__HIDDEN int sbx__output_policy_get(sbx_policy *policy, const char *func,
                                       struct sbx__output_policy **ret);

/* The compiled settings: immutable once built, reference-counted (a child may
 * outlive its policy), shared by any number of threads. */
struct sbx__outcfg {
    unsigned refs; /* atomic */
    char **values; /* copies, wiped when freed */
    size_t *lens;
    size_t n_values, max_len;
    bool patterns;
    int escapes;
    uint8_t unicode[SBX__UNICODE_CLASSES]; /* SBX_UNICODE_* action of each class */
    sbx_output_fn output_fn;
    void *output_ud;
    int audit_fd;
    sbx_audit_fn audit_fn;
    void *audit_ud;
    uint64_t audit_limit;     /* bytes per child; UINT64_MAX: none */
    char digest[72];          /* "sha256:<64 hex>" of the policy, when auditing */
    uint8_t value_start[256]; /* bytes that may start a registered value */
    uint8_t shape_start[256]; /* bytes that may start a credential shape */
    uint8_t shape_word[256];  /* ... but only after a byte that is not a letter or digit */
};

/* Build the settings of the policy as they are now. */
SBX__HIDDEN int sbx__outcfg_new(const sbx_policy *policy, const char *document,
                                struct sbx__outcfg **ret);
SBX__HIDDEN struct sbx__outcfg *sbx__outcfg_ref(struct sbx__outcfg *cfg);
SBX__HIDDEN void sbx__outcfg_unref(struct sbx__outcfg *cfg);
/* Whether the filter changes anything (else bytes may be passed on as they are). */
SBX__HIDDEN bool sbx__outcfg_active(const struct sbx__outcfg *cfg);
/* Whether the audit log is on. */
SBX__HIDDEN bool sbx__outcfg_auditing(const struct sbx__outcfg *cfg);

typedef void (*sbx__sink_fn)(void *ctx, const char *data, size_t len);

/* A range of the work buffer to redact, [start, end). */
struct sbx__range {
    size_t start, end;
    bool cont; /* swallowed after a shape's range: the same redaction */
};

/* The filter of one stream. */
struct sbx__outfilter {
    const struct sbx__outcfg *cfg; /* not owned */
    sbx__sink_fn sink;
    void *ctx;
    int escapes; /* SBX_ESCAPES_* used by this filter */
    char *work;  /* held bytes, then new ones; wiped when freed */
    size_t held, cap, hold_max;
    char out[4096]; /* filtered bytes not yet passed to the sink */
    size_t out_len;
    uint8_t prev; /* the byte before `sscan` (0 at the start) */
    int swallow;  /* what is being skipped after a match (see outfilter_engine.c) */
    size_t pem_skipped;
    /* Two engines over the work buffer, each with its own position: the
     * credential shapes, and the registered values (checked at every
     * position). Their ranges ([0] shapes, [1] values, each sorted by start)
     * are merged when the bytes before both positions are written. */
    size_t sscan, vscan;
    struct sbx__range *ranges[2];
    size_t n_ranges[2], cap_ranges[2];
    size_t cover_end; /* the work bytes before it are inside a redaction already written */
    bool nomem;       /* a range could not be kept: everything is redacted from then on */
    uint64_t redactions, escaped;
    uint8_t actions[SBX__UNICODE_CLASSES];  /* SBX_UNICODE_* of each class (usually cfg's) */
    uint64_t unicode[SBX__UNICODE_CLASSES]; /* characters of each class seen (not redacted) */
    uint8_t plain[256];                     /* bytes written as they are with no further look */
    /* The ASCII the tag characters spell, not redacted yet (allocated when
     * the first one comes; wiped when freed): room for the sample and for
     * what redaction needs to see past its end. */
    char *tags;
    size_t tags_len, tags_cap;
    uint64_t tags_next; /* the stream offset that continues the last run */
    bool tags_nomem;    /* the room could not be allocated */
    bool stripped;      /* the last thing the filter did was leave a character out */
    /* When a class is stripped and something is redacted: this filter only
     * strips (and counts what it strips), and a second one, `next`, takes its
     * output and does the rest, so that redaction sees the text as it will be
     * read ("hun\u200Bter2" with invisible characters stripped is "hunter2").
     * The counts of this filter are brought up to date after each write. */
    struct sbx__outfilter *next;
    bool strip_only;  /* this is the stripping stage: no redaction */
    uint64_t guarded; /* invalid sequences it wrote as U+FFFD (see invalid()) */
    bool finished;
    /* Tests and fuzzers: told of every input range that was redacted, as
     * offsets in the whole stream (NULL in the library). */
    void (*on_redact)(void *ctx, uint64_t start, uint64_t end);
    uint64_t base; /* offset in the stream of work[0] */
};

/* Prepare a filter; escapes is SBX_ESCAPES_* (usually cfg->escapes). */
SBX__HIDDEN int sbx__outfilter_init(struct sbx__outfilter *f, const struct sbx__outcfg *cfg,
                                    int escapes, sbx__sink_fn sink, void *ctx);
SBX__HIDDEN void sbx__outfilter_write(struct sbx__outfilter *f, const char *data, size_t len);
/* End of the stream: decide what is held and pass it on. */
SBX__HIDDEN void sbx__outfilter_finish(struct sbx__outfilter *f);
/* Wipe and free what the filter holds. */
SBX__HIDDEN void sbx__outfilter_destroy(struct sbx__outfilter *f);
/* What the tag characters the filter wrote spell, redacted and cut at
 * SBX_UNICODE_TAG_TEXT_MAX bytes: a malloc'd, NUL-terminated string in *ret.
 * -ENOMEM on failure. */
/* The Unicode class (SBX_UNICODE_*) of a code point, or -1 (for U+FEFF: the
 * class it has anywhere but at the start of the stream). */
SBX__HIDDEN int sbx__unicode_class(uint32_t cp);
SBX__HIDDEN int sbx__outfilter_tag_text(const struct sbx__outfilter *f, char **ret);

/* The Unicode counts and the tag text of a child's output (both streams), for
 * its result and its audit exit event. */
struct sbx__unicode_report {
    uint64_t count[SBX__UNICODE_CLASSES];
    size_t tag_len;
    char tag_text[SBX_UNICODE_TAG_TEXT_MAX + 1]; /* redacted; NUL-terminated */
    bool tag_lost; /* out of memory while redacting it: no text at all */
};
/* Add what a finished filter saw to *report (allocated on the first call; free
 * it with sbx__unicode_report_free()). -ENOMEM when *report cannot be
 * allocated (nothing changed); when the tag text cannot be redacted, the
 * counts are added and the text is dropped (tag_lost). */
SBX__HIDDEN int sbx__unicode_report_add(struct sbx__unicode_report **report,
                                        const struct sbx__outfilter *f);
SBX__HIDDEN void sbx__unicode_report_free(struct sbx__unicode_report *report);
/* The longest text sbx__unicode_report_json() writes, its NUL included. */
#define SBX__UNICODE_JSON_MAX 2048
/* Write "unicode":{"tags":N,"bidi":N,"invisible":N,"invalid_utf8":N,
 * "tag_text":"..."} (a member, without braces around it) into buf, as
 * snprintf does; a NULL report writes zero counts and "", a lost text null.
 * Returns the length (less than SBX__UNICODE_JSON_MAX). */
SBX__HIDDEN size_t sbx__unicode_report_json(const struct sbx__unicode_report *report, char *buf,
                                            size_t size);

/* Redact one string (no escape handling): a malloc'd, NUL-terminated copy in
 * *ret. -ENOMEM on failure. */
SBX__HIDDEN int sbx__redact_string(const struct sbx__outcfg *cfg, const char *s, char **ret);

/* The policy's digest, "sha256:<hex>", over its JSON document (doc, from
 * sbx_policy_to_json(); redacted with cfg) and the output settings. */
SBX__HIDDEN void sbx__policy_digest(const char *doc, const struct sbx__outcfg *cfg, char out[72]);

#endif
