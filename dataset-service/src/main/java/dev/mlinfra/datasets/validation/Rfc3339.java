package dev.mlinfra.datasets.validation;

import java.time.DateTimeException;
import java.time.LocalDate;

/**
 * RFC 3339 timestamps as records carry them: a {@code full-date} ({@code 2024-03-17}) or a
 * {@code date-time} ({@code 2024-03-17T09:12:44Z}, {@code 2024-03-17T09:12:44.5+02:00}; {@code t}
 * or a space for {@code T}, {@code z} for {@code Z}). Read by hand: it runs once per record of
 * files with millions of them, where {@code java.time}'s formatters cost more than the rest of
 * the record's checks.
 */
final class Rfc3339 {

    private static final int SECONDS_PER_DAY = 86_400;

    private Rfc3339() {
    }

    /** The calendar date in UTC of a full-date or date-time, or null when the text is neither. */
    static LocalDate utcDate(String s) {
        int n = s.length();
        if (n < 10 || s.charAt(4) != '-' || s.charAt(7) != '-') {
            return null;
        }
        int year = digits(s, 0, 4);
        int month = digits(s, 5, 2);
        int day = digits(s, 8, 2);
        if (year < 0 || month < 1 || day < 1) {
            return null;
        }
        LocalDate date;
        try {
            date = LocalDate.of(year, month, day);
        } catch (DateTimeException e) {
            return null;
        }
        if (n == 10) {
            return date;
        }
        // time: 'T' HH ':' MM ':' SS [ '.' 1*DIGIT ] offset
        char separator = s.charAt(10);
        if ((separator != 'T' && separator != 't' && separator != ' ') || n < 20
                || s.charAt(13) != ':' || s.charAt(16) != ':') {
            return null;
        }
        int hour = digits(s, 11, 2);
        int minute = digits(s, 14, 2);
        int second = digits(s, 17, 2);
        if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) {
            return null;
        }
        int i = 19;
        if (s.charAt(i) == '.') {
            int start = ++i;
            while (i < n && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
                i++;
            }
            if (i == start || i == n) {
                return null;
            }
        }
        int offsetSeconds;
        char sign = s.charAt(i);
        if ((sign == 'Z' || sign == 'z') && i + 1 == n) {
            offsetSeconds = 0;
        } else if ((sign == '+' || sign == '-') && i + 6 == n && s.charAt(i + 3) == ':') {
            int oh = digits(s, i + 1, 2);
            int om = digits(s, i + 4, 2);
            if (oh < 0 || oh > 23 || om < 0 || om > 59) {
                return null;
            }
            offsetSeconds = (sign == '+' ? 1 : -1) * (oh * 3600 + om * 60);
        } else {
            return null;
        }
        int utcSeconds = hour * 3600 + minute * 60 + Math.min(second, 59) - offsetSeconds;
        return date.plusDays(Math.floorDiv(utcSeconds, SECONDS_PER_DAY));
    }

    /** The value of {@code count} ASCII digits at {@code from}, or -1. */
    private static int digits(String s, int from, int count) {
        int value = 0;
        for (int i = from; i < from + count; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            value = value * 10 + (c - '0');
        }
        return value;
    }
}
