package dev.mlinfra.commons.persistence;

import io.quarkus.panache.common.Parameters;
import java.util.Collection;

/**
 * The condition of a list query, made of the filters a caller gave: each one present adds
 * {@code field = :field} (or {@code field in :field}), an absent one adds nothing.
 *
 * <pre>{@code
 * Filters f = Filters.where("team", team).and("modelType", modelType).and("status", status);
 * find(f.query() + " order by createdAt desc, id desc", f.parameters())
 * }</pre>
 *
 * One fixed query with {@code field = coalesce(:field, field)} for optional filters looks simpler but
 * is slow on large tables: PostgreSQL cannot tell how many rows such a condition keeps, estimates
 * one, and scans and sorts the whole table instead of reading the first rows of the listing index.
 */
public final class Filters {

    private final StringBuilder query = new StringBuilder();
    private final Parameters parameters = new Parameters();

    private Filters() {
    }

    /** The filter every query has (the team); {@code value} must not be null. */
    public static Filters where(String field, Object value) {
        if (value == null) {
            throw new IllegalArgumentException("The filter on " + field + " is required");
        }
        return new Filters().and(field, value);
    }

    /** Adds {@code field = :field}, or nothing when {@code value} is null. */
    public Filters and(String field, Object value) {
        return value == null ? this : add(field + " = :" + field, field, value);
    }

    /** Adds {@code field in :field}, or nothing when {@code values} is null. */
    public Filters andIn(String field, Collection<?> values) {
        return values == null ? this : add(field + " in :" + field, field, values);
    }

    private Filters add(String condition, String field, Object value) {
        query.append(query.isEmpty() ? "" : " and ").append(condition);
        parameters.and(field, value);
        return this;
    }

    /** The condition, for Panache's {@code find}, {@code count} and the like. */
    public String query() {
        return query.toString();
    }

    public Parameters parameters() {
        return parameters;
    }
}
