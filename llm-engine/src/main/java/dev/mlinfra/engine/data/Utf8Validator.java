package dev.mlinfra.engine.data;

/**
 * Checks that bytes fed to it, in pieces, are well-formed UTF-8 (RFC 3629: no overlong forms,
 * no surrogates, nothing above U+10FFFF). Once an ill-formed sequence was seen it stays invalid
 * until {@link #reset()}.
 */
final class Utf8Validator {

    private int pending;
    private int lower = 0x80;
    private int upper = 0xBF;
    private boolean valid = true;
    private long invalidAt = -1;
    private long offset;

    /** Feeds {@code len} bytes; returns false once the input seen so far is not UTF-8. */
    boolean accept(byte[] bytes, int off, int len) {
        for (int i = off; i < off + len && valid; i++) {
            accept(bytes[i] & 0xFF);
        }
        return valid;
    }

    private void accept(int b) {
        if (pending == 0) {
            if (b < 0x80) {
                offset++;
                return;
            }
            if (b >= 0xC2 && b <= 0xDF) {
                pending = 1;
            } else if (b >= 0xE0 && b <= 0xEF) {
                pending = 2;
                lower = b == 0xE0 ? 0xA0 : 0x80;
                upper = b == 0xED ? 0x9F : 0xBF;
            } else if (b >= 0xF0 && b <= 0xF4) {
                pending = 3;
                lower = b == 0xF0 ? 0x90 : 0x80;
                upper = b == 0xF4 ? 0x8F : 0xBF;
            } else {
                fail();
                return;
            }
        } else {
            if (b < lower || b > upper) {
                fail();
                return;
            }
            pending--;
            lower = 0x80;
            upper = 0xBF;
        }
        offset++;
    }

    private void fail() {
        valid = false;
        invalidAt = offset;
    }

    /** True when everything fed was UTF-8 and no character is left incomplete. */
    boolean complete() {
        return valid && pending == 0;
    }

    /** True while nothing ill-formed was seen (a character may still be incomplete). */
    boolean valid() {
        return valid;
    }

    /** Offset (from the last reset) of the first byte that is not UTF-8, or -1. */
    long invalidAt() {
        return invalidAt;
    }

    void reset() {
        pending = 0;
        lower = 0x80;
        upper = 0xBF;
        valid = true;
        invalidAt = -1;
        offset = 0;
    }
}
