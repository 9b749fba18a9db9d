/* Between the output filter's own files (outfilter_patterns.c,
 * outfilter_engine.c, outfilter.c): the credential shapes' interface to the
 * streaming engine. Nothing here is used outside them. */
#ifndef SBX_OUTFILTER_PATTERNS_H
#define SBX_OUTFILTER_PATTERNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* A matcher's answer: a match, none, or "the bytes end before it can tell". */
enum { NO = 0, YES = 1, NEED = -1 };

/* Character classes of tokens (what a match swallows). */
enum {
    C_ALNUM = 1,
    C_UPALNUM,
    C_WORD,
    C_B64,
    C_B64URL,
    C_TOKEN68,
    C_SLACK,
    C_JWT,
    C_VALUE,
    C_PEMHDR,
    C_ALPHA,
    C_USER,
    C_URLPW,
};
#define SW_PEM 100 /* swallowing a PEM block up to its END line */

struct match {
    size_t len;  /* bytes consumed */
    size_t keep; /* of which the first `keep` are written as they are */
    int swallow; /* then skip this class (or SW_PEM); 0: nothing */
};

/* The bytes a credential shape can start with (sbx__pattern_word_starts:
 * only after a byte that is not a letter or digit). */
SBX__HIDDEN extern const char sbx__pattern_starts[];
SBX__HIDDEN extern const char sbx__pattern_word_starts[];

/* The credential shapes that can start with byte a then byte b (a bit per
 * shape): none for most pairs, which the engine skips without a closer look. */
SBX__HIDDEN extern const uint16_t sbx__shape_first[256], sbx__shape_second[256];
static inline bool sbx__shape_pair(uint8_t a, uint8_t b)
{
    return (sbx__shape_first[a] & sbx__shape_second[b]) != 0;
}

/* Whether c is in the character class cls (C_*). */
SBX__HIDDEN bool sbx__in_class(int cls, uint8_t c);
/* The credential shape at p (n bytes; final: no more will come), `prev` being
 * the byte before it: YES (and *m), NO, or NEED. */
SBX__HIDDEN int sbx__shape_at(const uint8_t *p, size_t n, bool final, uint8_t prev,
                              struct match *m);
/* The END line of a PEM block at p, as sbx__shape_at(). */
SBX__HIDDEN int sbx__pem_end_at(const uint8_t *p, size_t n, bool final, uint8_t prev,
                                struct match *m);

#endif
