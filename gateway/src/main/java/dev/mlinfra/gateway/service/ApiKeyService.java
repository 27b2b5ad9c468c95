package dev.mlinfra.gateway.service;

import dev.mlinfra.commons.api.Page;
import dev.mlinfra.commons.api.PageParams;
import dev.mlinfra.commons.error.ApiException;
import dev.mlinfra.commons.identity.Identity;
import dev.mlinfra.gateway.ApiKey;
import dev.mlinfra.gateway.auth.ApiKeyFormat;
import dev.mlinfra.gateway.auth.Authenticator;
import dev.mlinfra.gateway.config.GatewayConfig;
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
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;

/** Creates, lists and revokes API keys, and makes the first admin key of a new installation. */
@ApplicationScoped
public class ApiKeyService {

    private static final Logger LOG = Logger.getLogger(ApiKeyService.class);
    static final String BOOTSTRAP_TEAM = "default";
    private static final Pattern TEAM = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
    private static final int MAX_NAME = 100;

    /** A key as created: the only moment its secret exists outside the client. */
    public record Created(ApiKey key, String secret) {
    }

    private final ApiKeyRepository repository;
    private final Authenticator authenticator;
    private final GatewayConfig config;

    public ApiKeyService(ApiKeyRepository repository, Authenticator authenticator, GatewayConfig config) {
        this.repository = repository;
        this.authenticator = authenticator;
        this.config = config;
    }

    @WithTransaction
    public Uni<Created> create(String team, Set<String> scopes, String name, Identity creator) {
        if (team == null || !TEAM.matcher(team).matches()) {
            throw ApiException.badRequest("Invalid field 'team': expected 1-63 characters of a-z, 0-9 and '-', starting with a letter or digit");
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
        if (name == null || name.isBlank() || name.length() > MAX_NAME) {
            throw ApiException.badRequest("Invalid field 'name': expected 1-" + MAX_NAME + " characters naming the key's purpose");
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
        return repository.list(team, active, page)
                .flatMap(keys -> repository.count(team, active).map(total -> Page.of("api_keys", keys, total, page)));
    }

    /** Revokes a key; refusing to revoke the last active admin key, which would lock every administrator out. */
    @WithTransaction
    public Uni<ApiKey> revoke(String keyId, Identity by) {
        return repository.findKey(keyId).flatMap(key -> {
            if (key == null) {
                throw ApiException.notFound("API key '" + keyId + "' not found");
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
        }).invoke(revoked -> {
            authenticator.forget(keyId);
            LOG.infof("API key %s of team '%s' revoked by key %s", keyId, revoked.team, by == null ? null : by.keyId());
        });
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
