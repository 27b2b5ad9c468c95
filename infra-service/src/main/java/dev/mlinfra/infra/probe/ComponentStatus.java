package dev.mlinfra.infra.probe;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonValue;
import dev.mlinfra.commons.http.Redaction;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.media.SchemaProperty;

/**
 * One component's entry in the status: {@code status}, the {@code version} the component reported, and
 * what else its probe learned (endpoint without credentials, latency_ms, reason, ...), in that order.
 * Fields about the platform's insides (addresses, paths, other teams' served models) are for
 * operators: {@link #forOperators(boolean)} leaves them out for everyone else.
 */
@Schema(name = "ComponentStatus", description = "One component's state: its status, the version it reports, and what its"
        + " probe learned, which depends on the component (infra-service's README lists them); where it runs is shown to"
        + " admin keys only", requiredProperties = "status", additionalProperties = Schema.True.class, properties = {
            @SchemaProperty(name = "status", type = SchemaType.STRING, enumeration = {"healthy", "degraded", "unhealthy"}),
            @SchemaProperty(name = "version", type = SchemaType.STRING, description = "As the component reports it"),
            @SchemaProperty(name = "reason", type = SchemaType.STRING, description = "Why it is not healthy"),
            @SchemaProperty(name = "latency_ms", type = SchemaType.INTEGER, description = "How long its probe took"),
            @SchemaProperty(name = "endpoint", type = SchemaType.STRING,
                    description = "Where it runs, without credentials (admin keys only)")})
public final class ComponentStatus {

    public enum Health {
        HEALTHY, DEGRADED, UNHEALTHY;

        @JsonValue
        public String value() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** The worse of two. */
        public Health and(Health other) {
            return compareTo(other) >= 0 ? this : other;
        }
    }

    @Schema(hidden = true)
    private final Health health;
    @Schema(hidden = true)
    private final Map<String, Object> fields = new LinkedHashMap<>();
    @Schema(hidden = true)
    private final Set<String> internal = new HashSet<>();

    private ComponentStatus(Health health) {
        this.health = health;
        fields.put("status", health);
    }

    public static ComponentStatus of(Health health) {
        return new ComponentStatus(health);
    }

    public static ComponentStatus healthy(String version) {
        return new ComponentStatus(Health.HEALTHY).with("version", version);
    }

    public static ComponentStatus unhealthy(String reason) {
        return new ComponentStatus(Health.UNHEALTHY).with("reason", reason);
    }

    /** Adds a field; null values are left out. */
    public ComponentStatus with(String key, Object value) {
        if (value != null) {
            fields.put(key, value);
        }
        return this;
    }

    /** Adds a field that only operators see (where a component runs, what it serves for every team); null values are left out. */
    public ComponentStatus withInternal(String key, Object value) {
        if (value != null) {
            internal.add(key);
        }
        return with(key, value);
    }

    /**
     * This status as an operator sees it, or for anyone else without its internal fields, and with
     * the addresses in its text (a reason such as {@code Connection refused: /10.0.0.7:8081}) hidden.
     */
    public ComponentStatus forOperators(boolean operator) {
        if (operator) {
            return this;
        }
        ComponentStatus view = new ComponentStatus(health);
        fields.forEach((key, value) -> {
            if (!internal.contains(key)) {
                view.fields.put(key, value instanceof String text ? Redaction.addresses(text) : value);
            }
        });
        return view;
    }

    public Health health() {
        return health;
    }

    public Object get(String key) {
        return fields.get(key);
    }

    @JsonAnyGetter
    public Map<String, Object> fields() {
        return Collections.unmodifiableMap(fields);
    }
}
