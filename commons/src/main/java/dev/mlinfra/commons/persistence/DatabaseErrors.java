package dev.mlinfra.commons.persistence;

import io.vertx.pgclient.PgException;
import java.util.Set;
import org.hibernate.JDBCException;
import org.hibernate.exception.ConstraintViolationException;

/**
 * What a failed database statement says about its cause, through the layers that wrap it
 * (Hibernate Reactive's exceptions around the PostgreSQL client's).
 */
public final class DatabaseErrors {

    private static final String UNIQUE_VIOLATION = "23505";
    /** The NUL character in text ({@code 22021}) or escaped in JSON ({@code 22P05}): PostgreSQL keeps neither. */
    private static final Set<String> UNSTORABLE_TEXT = Set.of("22021", "22P05");

    private DatabaseErrors() {
    }

    /** A unique constraint or primary key refused the write: another one wrote the same first. */
    public static boolean uniqueViolation(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ConstraintViolationException c
                    && (c.getSQLState() == null || UNIQUE_VIOLATION.equals(c.getSQLState()))
                    || UNIQUE_VIOLATION.equals(sqlState(t))) {
                return true;
            }
        }
        return false;
    }

    /** Text that the database cannot store: the NUL character (U+0000). */
    public static boolean unstorableText(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String state = sqlState(t);
            if (state != null && UNSTORABLE_TEXT.contains(state)) {
                return true;
            }
        }
        return false;
    }

    private static String sqlState(Throwable t) {
        return t instanceof PgException pg ? pg.getSqlState() : t instanceof JDBCException j ? j.getSQLState() : null;
    }
}
