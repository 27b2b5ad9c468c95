package dev.mlinfra.commons.persistence;

import com.fasterxml.jackson.annotation.JsonValue;
import dev.mlinfra.commons.error.ApiException;
import java.util.Collection;
import java.util.stream.Collectors;

/**
 * An enumeration whose values are lowercase words in the API and in the database ({@code
 * "pending"}, {@code "ready"}), while the code uses constants. Store it with a subclass of
 * {@link TextEnumConverter}; it is written to JSON as its value.
 */
public interface TextEnum {

    /** The word the API and the database use. */
    @JsonValue
    String value();

    /**
     * The constant among {@code allowed} whose value is {@code raw}; a 400 naming {@code what}
     * (e.g. "query parameter 'status'") and the allowed values otherwise.
     */
    static <E extends TextEnum> E parse(String what, String raw, Collection<E> allowed) {
        for (E e : allowed) {
            if (e.value().equals(raw)) {
                return e;
            }
        }
        throw ApiException.badRequest("Invalid " + what + ": expected one of "
                + allowed.stream().map(TextEnum::value).collect(Collectors.joining(", ")) + ", got '" + raw + "'");
    }
}
