package dev.mlinfra.inference;

import dev.mlinfra.commons.persistence.TextEnum;
import dev.mlinfra.commons.persistence.TextEnumConverter;
import jakarta.persistence.Converter;
import java.util.List;

/** How far the deployment of a model's serving version is. */
public enum DeploymentState implements TextEnum {
    /** Its adapter is being loaded on the serving backend (or the backend is starting). */
    DEPLOYING("deploying"),
    /** It answers inference requests. */
    READY("ready"),
    /** It could not be deployed; the reason says why. */
    FAILED("failed"),
    /** The model has no servable version (archived only, or deleted). */
    REMOVED("removed");

    public static final List<DeploymentState> ALL = List.of(values());

    private final String value;

    DeploymentState(String value) {
        this.value = value;
    }

    @Override
    public String value() {
        return value;
    }

    @Converter(autoApply = true)
    public static class StateConverter extends TextEnumConverter<DeploymentState> {
        public StateConverter() {
            super(DeploymentState.class);
        }
    }
}
