package dev.mlinfra.gateway;

import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

/** A stored API key: everything but the key itself, of which only a hash is kept. */
@Entity
@Table(name = "api_key")
public class ApiKey extends PanacheEntityBase {

    /**
     * A team's name, whether given to a key or read from a sign-in token's claim: a DNS label, as
     * Kubernetes takes it for a label value (the team labels its TrainJobs).
     */
    public static final Pattern TEAM_NAME = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    /** {@link #TEAM_NAME} as messages say it. */
    public static final String TEAM_NAME_RULE = "1-63 characters of a-z, 0-9 and '-', starting and ending with a letter or digit";

    /** The public part of the key ({@code mlk_<key id>_<secret>}). */
    @Id
    @Column(name = "key_id")
    public String keyId;

    /** SHA-256 of the whole key. */
    @Column(name = "key_hash", nullable = false)
    public byte[] keyHash;

    @Column(nullable = false)
    public String team;

    @Column(nullable = false)
    public String name;

    @JdbcTypeCode(SqlTypes.ARRAY)
    @Column(nullable = false)
    public String[] scopes;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;

    /** The key id of the administrator who created it; null for the bootstrap key. */
    @Column(name = "created_by")
    public String createdBy;

    @Column(name = "revoked_at")
    public Instant revokedAt;

    /** Requests per window by rate area, in place of the configured limit, for this key only. */
    @JdbcTypeCode(SqlTypes.JSON)
    @Column(name = "rate_limits", nullable = false)
    public Map<String, Integer> rateLimits = Map.of();

    public boolean active() {
        return revokedAt == null;
    }

    public Set<String> scopeSet() {
        return Set.of(scopes);
    }
}
