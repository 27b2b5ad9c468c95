package dev.mlinfra.gateway.service;

import dev.mlinfra.commons.api.Page;
import dev.mlinfra.commons.api.PageParams;
import dev.mlinfra.commons.error.ApiException;
import dev.mlinfra.commons.error.ErrorMappers;
import dev.mlinfra.commons.identity.Identity;
import dev.mlinfra.gateway.ApiKey;
import dev.mlinfra.gateway.auth.ApiKeyFormat;
import dev.mlinfra.gateway.auth.Authenticator;
import dev.mlinfra.gateway.config.GatewayConfig;
import dev.mlinfra.gateway.ratelimit.RateLimiter;
import dev.mlinfra.gateway.repository.ApiKeyRepository;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.mutiny.Uni;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.hibernate.reactive.panache.common.WithTransaction;
import io.quarkus.vertx.VertxContextSupport;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.jboss.logging.Logger;

/** Creates, lists, revokes and re-limits API keys, and makes the first admin key of a new installation. */
@ApplicationScoped
public class ApiKeyService {

    private static final Logger LOG = Logger.getLogger(ApiKeyService.class);
    static final String BOOTSTRAP_TEAM = "default";
    private static final int MAX_NAME = 100;

    /** A key as created: the only moment its secret exists outside the client. */
    public record Created(ApiKey key, String secret) {
    }

    private final ApiKeyRepository repository;
    private final Authenticator authenticator;
    private final GatewayConfig config;
    private final RateLimiter rateLimiter;

    public ApiKeyService(ApiKeyRepository repository, Authenticator authenticator, GatewayConfig config,
            RateLimiter rateLimiter) {
        this.repository = repository;
        this.authenticator = authenticator;
        this.config = config;
        this.rateLimiter = rateLimiter;
    }

    @WithTransaction
    public Uni<Created> create(String team, Set<String> scopes, String name, Identity creator) {
        if (team == null || !ApiKey.TEAM_NAME.matcher(team).matches()) {
            throw ApiException.badRequest("Invalid field 'team': expected " + ApiKey.TEAM_NAME_RULE);
        }
        if (scopes == null || scopes.isEmpty()) {
            throw ApiException.badRequest("Invalid field 'scopes': expected a non-empty array of " + new TreeSet<>(Identity.ALL_SCOPES));
        }
        for (String scope : scopes) {
            if (!Identity.ALL_SCOPES.contains(scope)) {
                throw ApiException.badRequest("Invalid field 'scopes': unknown scope '" + scope + "'; expected some of "
                        + new TreeSet<>(Identity.ALL_SCOPES));
            }
        }
        // characters as a person counts them (an emoji is one), on one line as listings show it
        if (name == null || name.isBlank() || name.codePointCount(0, name.length()) > MAX_NAME
                || name.chars().anyMatch(Character::isISOControl)) {
            throw ApiException.badRequest("Invalid field 'name': expected 1-" + MAX_NAME + " characters naming the key's purpose,"
                    + " on one line (no control characters such as line breaks or tabs)");
        }
        String secret = ApiKeyFormat.generate();
        ApiKey key = newKey(secret, team, scopes, name.strip(), creator == null ? null : creator.keyId());
        return repository.persist(key).map(ignored -> {
            LOG.infof("API key %s created for team '%s' with scopes %s by key %s", key.keyId, team,
                    new TreeSet<>(scopes), key.createdBy);
            return new Created(key, secret);
        });
    }

    public Uni<Page<ApiKey>> list(String team, Boolean active, PageParams page) {
        if (team != null && !ApiKey.TEAM_NAME.matcher(team).matches()) {
            // no key can have it: said as on create, rather than an empty list that reads as "this team has none"
            throw ApiException.badRequest("Invalid query parameter 'team': expected " + ApiKey.TEAM_NAME_RULE + ", got "
                    + ErrorMappers.quoted(team));
        }
        return repository.list(team, active, page)
                .flatMap(keys -> repository.count(team, active).map(total -> Page.of("api_keys", keys, total, page)));
    }

    private static ApiException notFound(String keyId) {
        return ApiException.notFound("API key '" + keyId + "' not found");
    }

    /** The key with this id, revoked or not; 404 when none has it. */
    public Uni<ApiKey> find(String keyId) {
        return repository.findKey(keyId).map(key -> {
            if (key == null) {
                throw notFound(keyId);
            }
            return key;
        });
    }

    /**
     * Revokes a key; refusing to revoke the last active admin key, which would lock every
     * administrator out. This replica forgets the key once the revocation is committed, so that no
     * request reads it back as it was in between.
     */
    public Uni<ApiKey> revoke(String keyId, Identity by) {
        return revoked(keyId, by).invoke(revoked -> {
            authenticator.forget(keyId);
            LOG.infof("API key %s of team '%s' revoked by key %s", keyId, revoked.team, by == null ? null : by.keyId());
        });
    }

    @WithTransaction
    Uni<ApiKey> revoked(String keyId, Identity by) {
        return repository.findKey(keyId).flatMap(key -> {
            if (key == null) {
                throw notFound(keyId);
            }
            if (!key.active()) {
                throw ApiException.conflict("API key '" + keyId + "' is already revoked (at " + key.revokedAt.truncatedTo(ChronoUnit.SECONDS) + ")");
            }
            Uni<Long> otherAdmins = key.scopeSet().contains(Identity.SCOPE_ADMIN)
                    ? repository.lockAgainstWriters().flatMap(ignored -> repository.countOtherActiveAdmins(keyId))
                    : Uni.createFrom().item(1L);
            return otherAdmins.flatMap(others -> {
                if (others == 0) {
                    throw ApiException.conflict("API key '" + keyId + "' is the last active admin key; create another admin key before revoking it");
                }
                Instant now = Instant.now();
                return repository.revoke(keyId, now).map(done -> {
                    if (!done) {
                        throw ApiException.conflict("API key '" + keyId + "' is already revoked");
                    }
                    key.revokedAt = now;
                    return key;
                });
            });
        });
    }

    /**
     * Sets or removes the key's own rate limits: {@code changes} maps an area to its new limit, or
     * to null to return the area to the configured limit; areas not named keep what they had.
     * This replica applies the change once it is committed, every other within
     * {@code mlinfra.gateway.auth.cache-ttl}.
     */
    public Uni<ApiKey> updateRateLimits(String keyId, Map<String, Integer> changes, Identity by) {
        return rateLimitsUpdated(keyId, changes).invoke(changed -> {
            authenticator.forget(keyId);
            LOG.infof("Rate limits of API key %s (team '%s') set to %s by key %s", keyId, changed.team, changed.rateLimits,
                    by == null ? null : by.keyId());
        });
    }

    @WithTransaction
    Uni<ApiKey> rateLimitsUpdated(String keyId, Map<String, Integer> changes) {
        if (changes == null || changes.isEmpty()) {
            throw ApiException.badRequest("Invalid field 'limits': it names no rate area, so nothing would change; name at least"
                    + " one of " + new TreeSet<>(rateLimiter.areas()) + " with its requests per window (a positive integer, or"
                    + " null for the configured limit)");
        }
        for (Map.Entry<String, Integer> change : changes.entrySet()) {
            if (!rateLimiter.areas().contains(change.getKey())) {
                throw ApiException.badRequest("Invalid field 'limits." + change.getKey() + "': unknown rate area; expected some of "
                        + new TreeSet<>(rateLimiter.areas()));
            }
            if (change.getValue() != null && change.getValue() < 1) {
                throw ApiException.badRequest("Invalid field 'limits." + change.getKey()
                        + "': expected a positive integer (requests per window) or null, got " + change.getValue());
            }
        }
        return repository.findKeyForUpdate(keyId).map(key -> {
            if (key == null) {
                throw notFound(keyId);
            }
            if (!key.active()) {
                throw ApiException.conflict("API key '" + keyId + "' is revoked; its limits can no longer change");
            }
            Map<String, Integer> limits = new TreeMap<>(key.rateLimits == null ? Map.of() : key.rateLimits);
            changes.forEach((area, limit) -> {
                if (limit == null) {
                    limits.remove(area);
                } else {
                    limits.put(area, limit);
                }
            });
            key.rateLimits = limits;
            return key;
        });
    }

    /** The limit of every rate area for {@code key}: its own where it has one, else the configured one. */
    public Map<String, Integer> effectiveRateLimits(ApiKey key) {
        return rateLimiter.effectiveLimits(key.rateLimits);
    }

    /** On the first start of an installation (no key at all), creates the admin key of team 'default'. */
    void bootstrap(@Observes StartupEvent event) throws Throwable {
        // Startup may block: it waits for the first key to exist, through Quarkus' bridge into the reactive session.
        String shown = VertxContextSupport.subscribeAndAwait(() -> Panache.withTransaction(() -> repository.lockAgainstWriters()
                .flatMap(ignored -> repository.count())
                .flatMap(count -> {
                    if (count > 0) {
                        return Uni.createFrom().nullItem();
                    }
                    String secret = config.auth().bootstrapApiKey().map(String::strip).orElse(null);
                    boolean generated = secret == null;
                    if (generated) {
                        secret = ApiKeyFormat.generate();
                    } else if (ApiKeyFormat.keyId(secret).isEmpty()) {
                        throw new IllegalStateException("MLINFRA_BOOTSTRAP_API_KEY is not a valid API key; expected "
                                + ApiKeyFormat.describe());
                    }
                    ApiKey key = newKey(secret, BOOTSTRAP_TEAM, Identity.ALL_SCOPES, "bootstrap admin key", null);
                    String toShow = generated ? secret : "(taken from MLINFRA_BOOTSTRAP_API_KEY)";
                    return repository.persist(key).replaceWith(toShow)
                            .invoke(() -> LOG.infof("No API key existed: created admin key %s for team '%s'", key.keyId, BOOTSTRAP_TEAM));
                })));
        if (shown != null) {
            LOG.warnf("First admin API key (shown once, store it now): %s", shown);
        }
        Optional<String> recovery = config.auth().recoveryApiKey().map(String::strip).filter(k -> !k.isEmpty());
        if (recovery.isPresent()) {
            VertxContextSupport.subscribeAndAwait(() -> recover(recovery.get()));
        }
    }

    /**
     * Adds the recovery admin key where no key has its id; one that was revoked stays revoked (a
     * revocation is final), and one whose id another secret holds is refused: both are said in the log.
     */
    Uni<Void> recover(String secret) {
        Optional<String> keyId = ApiKeyFormat.keyId(secret);
        if (keyId.isEmpty()) {
            throw new IllegalStateException("MLINFRA_RECOVERY_API_KEY is not a valid API key; expected " + ApiKeyFormat.describe());
        }
        return Panache.withTransaction(() -> repository.lockAgainstWriters()
                .flatMap(ignored -> repository.findKey(keyId.get()))
                .flatMap(existing -> {
                    if (existing == null) {
                        ApiKey key = newKey(secret, BOOTSTRAP_TEAM, Identity.ALL_SCOPES, "recovery admin key", null);
                        return repository.persist(key).invoke(() -> LOG.warnf("Recovery admin key %s added for team '%s'"
                                + " (MLINFRA_RECOVERY_API_KEY); make a new admin key with it, revoke it, and remove the setting",
                                key.keyId, BOOTSTRAP_TEAM)).replaceWithVoid();
                    }
                    if (!ApiKeyFormat.matches(secret, existing.keyHash)) {
                        LOG.errorf("MLINFRA_RECOVERY_API_KEY is not added: key id %s belongs to another key; generate a new one",
                                existing.keyId);
                    } else if (!existing.active()) {
                        LOG.errorf("MLINFRA_RECOVERY_API_KEY (key %s) was revoked at %s and is not restored; configure a new one",
                                existing.keyId, existing.revokedAt);
                    }
                    return Uni.createFrom().voidItem();
                }));
    }

    private static ApiKey newKey(String secret, String team, Set<String> scopes, String name, String createdBy) {
        ApiKey key = new ApiKey();
        key.keyId = ApiKeyFormat.keyId(secret).orElseThrow();
        key.keyHash = ApiKeyFormat.hash(secret);
        key.team = team;
        key.name = name;
        key.scopes = new TreeSet<>(scopes).toArray(String[]::new);
        key.createdAt = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        key.createdBy = createdBy;
        return key;
    }
}
