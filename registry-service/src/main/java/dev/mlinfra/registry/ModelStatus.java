package dev.mlinfra.registry;

import dev.mlinfra.commons.persistence.TextEnum;
import dev.mlinfra.commons.persistence.TextEnumConverter;
import jakarta.persistence.Converter;
import java.util.List;

/** Whether a model is in use: inactive once its current version is archived (all its versions are). */
public enum ModelStatus implements TextEnum {
    ACTIVE("active"),
    INACTIVE("inactive");

    public static final List<ModelStatus> ALL = List.of(values());

    private final String value;

    ModelStatus(String value) {
        this.value = value;
    }

    @Override
    public String value() {
        return value;
    }

    @Converter(autoApply = true)
    public static class StatusConverter extends TextEnumConverter<ModelStatus> {
        public StatusConverter() {
            super(ModelStatus.class);
        }
    }
}
