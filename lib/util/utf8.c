/* UTF-8 as RFC 3629 defines it: no overlong forms, no surrogates, nothing past
 * U+10FFFF. The one validator of the library (JSON output, policy files, the
 * audit log and the output filter use it). */
#include "util.h"

int sbx__utf8_seq(const unsigned char *s, size_t n)
{
    if (n == 0)
        return -1;
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    int need;
    unsigned char lo = 0x80, hi = 0xbf; /* the range of the second byte */
    if (c >= 0xc2 && c <= 0xdf) {
        need = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 3;
        lo = c == 0xe0 ? 0xa0 : 0x80; /* no overlong form */
        hi = c == 0xed ? 0x9f : 0xbf; /* no surrogate */
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 4;
        lo = c == 0xf0 ? 0x90 : 0x80; /* no overlong form */
        hi = c == 0xf4 ? 0x8f : 0xbf; /* nothing past U+10FFFF */
    } else {
        return 0;
    }
    for (int k = 1; k < need; k++) {
        if ((size_t)k >= n)
            return -1;
        unsigned char b = s[k];
        if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xbf))
            return 0;
    }
    return need;
}

bool sbx__utf8_valid(const void *data, size_t n)
{
    const unsigned char *s = data;
    while (n) {
        if (s[0] < 0x80) { /* the common case */
            s++, n--;
            continue;
        }
        int k = sbx__utf8_seq(s, n);
        if (k <= 0)
            return false;
        s += k, n -= (size_t)k;
    }
    return true;
}
