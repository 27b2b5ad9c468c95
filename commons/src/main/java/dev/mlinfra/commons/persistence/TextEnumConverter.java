package dev.mlinfra.commons.persistence;

import jakarta.persistence.AttributeConverter;
import java.util.HashMap;
import java.util.Map;

/**
 * Stores a {@link TextEnum} as its value in a text column. Subclass it per enumeration, annotated
 * {@code @Converter(autoApply = true)}:
 * {@code class StatusConverter extends TextEnumConverter<Status> { StatusConverter() { super(Status.class); } }}
 */
public abstract class TextEnumConverter<E extends Enum<E> & TextEnum> implements AttributeConverter<E, String> {

    private final Class<E> type;
    private final Map<String, E> byValue = new HashMap<>();

    protected TextEnumConverter(Class<E> type) {
        this.type = type;
        for (E e : type.getEnumConstants()) {
            byValue.put(e.value(), e);
        }
    }

    @Override
    public String convertToDatabaseColumn(E attribute) {
        return attribute == null ? null : attribute.value();
    }

    @Override
    public E convertToEntityAttribute(String column) {
        if (column == null) {
            return null;
        }
        E e = byValue.get(column);
        if (e == null) {
            throw new IllegalStateException("'" + column + "' stored in the database is no " + type.getSimpleName());
        }
        return e;
    }
}
