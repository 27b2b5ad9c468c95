package dev.mlinfra.registry;

import dev.mlinfra.commons.persistence.TextEnum;
import dev.mlinfra.commons.persistence.TextEnumConverter;
import jakarta.persistence.Converter;
import java.util.List;

/** Where a model version stands in its life: registered, tried in staging, serving in production, retired. */
public enum Stage implements TextEnum {
    NONE("none"),
    STAGING("staging"),
    PRODUCTION("production"),
    ARCHIVED("archived");

    public static final List<Stage> ALL = List.of(values());

    private final String value;

    Stage(String value) {
        this.value = value;
    }

    @Override
    public String value() {
        return value;
    }

    @Converter(autoApply = true)
    public static class StageConverter extends TextEnumConverter<Stage> {
        public StageConverter() {
            super(Stage.class);
        }
    }
}
