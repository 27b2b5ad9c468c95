package dev.mlinfra.inference.service;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.commons.events.ModelEvents;
import dev.mlinfra.commons.persistence.ReadAhead;
import dev.mlinfra.commons.storage.ObjectStore;
import dev.mlinfra.inference.Deployment;
import dev.mlinfra.inference.DeploymentState;
import dev.mlinfra.inference.ServableVersion;
import dev.mlinfra.inference.backend.BackendException;
import dev.mlinfra.inference.backend.OpenAiProtocol;
import dev.mlinfra.inference.backend.ServingBackend;
import dev.mlinfra.inference.config.InferenceConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.cache.Cache;
import io.quarkus.cache.CacheName;
import io.quarkus.cache.CaffeineCache;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.scheduler.Scheduled;
import io.quarkus.vertx.VertxContextSupport;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.persistence.LockModeType;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Keeps every model's deployment in step with the registry: the versions its events announce,
 * which of them serves (the production version, else the newest one not archived), and the
 * serving backend's state. A version is deployed by reading the prompt its trainer recorded
 * ({@code prompt_template.json} beside the adapter) and loading its adapter on the server of its
 * model type under a name of its own ({@link #servedName}, unique across teams).
 * Deployments that wait for a server are finished when the server is ready, and by a periodic
 * round that retries what is still deploying.
 */
@ApplicationScoped
public class DeploymentService {

    private static final Logger LOG = Logger.getLogger(DeploymentService.class);
    static final String LOOKUPS = "deployment-lookups";
    static final String READS = "mlinfra.inference.deployment_lookup.reads";
    private static final String READS_DESCRIPTION = "Deployments read from the database for the inference path, by whether"
            + " a request waited for the read";
    private static final Comparator<ServableVersion> NEWEST = Comparator.comparing((ServableVersion v) -> v.registeredAt)
            .thenComparing(v -> v.id);

    private final ServingBackend backend;
    private final dev.mlinfra.inference.messaging.ServingEvents events;
    private final OpenAiProtocol protocol;
    private final ObjectStore store;
    private final ObjectMapper json;
    private final InferenceConfig config;
    private final Clock clock;
    private final CaffeineCache lookups;
    private final ReadAhead<Model> ahead;
    private volatile boolean stopping;
    /** Per server, the adapters the last sweep found that no deployment serves: unloaded when the next finds them still so. */
    private final Map<URI, Set<String>> unserved = new ConcurrentHashMap<>();

    public DeploymentService(ServingBackend backend, dev.mlinfra.inference.messaging.ServingEvents events,
            OpenAiProtocol protocol, ObjectStore store, ObjectMapper json, InferenceConfig config,
            @CacheName(LOOKUPS) Cache lookups,
            @ConfigProperty(name = "quarkus.cache.caffeine.\"" + LOOKUPS + "\".expire-after-write") Duration lookupTtl,
            MeterRegistry meters) {
        this.lookups = lookups.as(CaffeineCache.class);
        this.ahead = new ReadAhead<>("deployment of", lookupTtl, meters, READS, READS_DESCRIPTION);
        this.backend = backend;
        this.events = events;
        this.protocol = protocol;
        this.store = store;
        this.json = json;
        this.config = config;
        this.clock = Clock.systemUTC();
    }

    void start(@Observes StartupEvent event) {
        // A server that (re)starts has no adapters: load those of its type again, off the supervisor's thread.
        backend.onReady((modelType, url) -> Infrastructure.getDefaultWorkerPool().execute(() -> {
            if (stopping) {
                return;
            }
            try {
                VertxContextSupport.subscribeAndAwait(() -> serverReady(modelType, url));
            } catch (Throwable e) {
                LOG.errorf(e, "Could not load the adapters of the %s server again; the next round retries", modelType);
            }
        }));
    }

    void stop(@Observes ShutdownEvent event) {
        stopping = true;
    }

    /** Production versions stay in the server's memory; others are read when asked for (its LRU). */
    static boolean pinned(Deployment d) {
        return ServableVersion.PRODUCTION.equals(d.stage);
    }

    /**
     * The adapter's name on the serving backend, {@code <team>/<model_id>/<version>/<digest>}: unique
     * across teams, models and versions, and across the artifacts a version had. The digest (the first
     * 8 hex digits of the artifact's SHA-256) keeps a model that was deleted and registered again with
     * other weights apart from its old adapter, which a server may still hold; a server that is asked
     * to load a name it has would keep the old weights (vLLM) or refuse (model-server).
     */
    public static String servedName(String team, String modelId, String version, String artifact) {
        byte[] digest;
        try {
            digest = MessageDigest.getInstance("SHA-256").digest(artifact.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        return team + "/" + modelId + "/" + version + "/" + HexFormat.of().formatHex(digest, 0, 4);
    }

    // ------------------------------------------------------------------ events (in the inbox's transaction)

    /** A new version: recorded, then the model's deployment follows. */
    public Uni<Deployment> registered(String team, ModelEvents.Registered r) {
        Instant now = clock.instant();
        return ServableVersion.<ServableVersion>find("team = ?1 and modelId = ?2 and version = ?3", team, r.modelId(), r.version())
                .firstResult()
                .flatMap(existing -> {
                    ServableVersion v = existing != null ? existing : new ServableVersion();
                    v.team = team;
                    v.modelId = r.modelId();
                    v.version = r.version();
                    v.modelType = r.modelType();
                    v.stage = r.stage() == null ? "none" : r.stage();
                    v.artifact = r.artifact();
                    v.trainingJobId = r.trainingJobId();
                    v.registeredAt = r.createdAt() == null ? now : r.createdAt();
                    v.updatedAt = now;
                    return v.persist();
                })
                .flatMap(v -> follow(team, r.modelId(), r.modelType(), null));
    }

    /**
     * A version moved: its stage is recorded, then the model's deployment follows. Except for the
     * archive half of a promotion (production to archived by nobody: the registry archives the
     * version a promotion replaces and announces the promotion next, from the same transaction):
     * only its stage is recorded, and the promotion re-points the deployment. Followed on its own,
     * it would deploy the newest other version for the moment between the two.
     */
    public Uni<Deployment> stageChanged(String team, ModelEvents.StageChanged c) {
        Instant now = clock.instant();
        return ServableVersion.<ServableVersion>find("team = ?1 and modelId = ?2 and version = ?3", team, c.modelId(), c.version())
                .firstResult()
                .flatMap(v -> {
                    if (v == null) {
                        // registered before this service followed the topic: the event says all it needs
                        v = new ServableVersion();
                        v.team = team;
                        v.modelId = c.modelId();
                        v.version = c.version();
                        v.modelType = c.modelType();
                        v.trainingJobId = c.trainingJobId() == null ? "" : c.trainingJobId();
                        v.registeredAt = c.changedAt() == null ? now : c.changedAt();
                    }
                    v.stage = c.stage();
                    if (c.artifact() != null) {
                        v.artifact = c.artifact();
                    }
                    v.updatedAt = now;
                    return v.<ServableVersion>persist();
                })
                .flatMap(v -> replacedByAPromotion(c) ? Uni.createFrom().<Deployment>nullItem()
                        : follow(team, c.modelId(), c.modelType(), ServableVersion.ARCHIVED.equals(c.stage()) ? c.version() : null));
    }

    private static boolean replacedByAPromotion(ModelEvents.StageChanged c) {
        return ServableVersion.PRODUCTION.equals(c.fromStage()) && ServableVersion.ARCHIVED.equals(c.stage())
                && c.changedBy() == null;
    }

    /** The model is gone: its versions and its deployment are removed; returns what was deployed, to unload it. */
    public Uni<Deployment> deleted(String team, String modelId) {
        Uni<Deployment> current = locked(team, modelId);
        return ServableVersion.delete("team = ?1 and modelId = ?2", team, modelId)
                .flatMap(n -> current)
                .flatMap(d -> d == null ? Uni.createFrom().<Deployment>nullItem() : d.delete()
                        .chain(() -> d.state == DeploymentState.REMOVED ? Uni.createFrom().voidItem()
                                : events.removed(d, d.version, d.servedName, "model '" + modelId + "' was deleted"))
                        .replaceWith(d));
    }

    /**
     * A model's deployment, locked for the rest of the transaction: the event consumer and the
     * deploying rounds change the same rows, and each change must see the one before it.
     */
    private static Uni<Deployment> locked(String team, String modelId) {
        return Deployment.<Deployment>find("team = ?1 and modelId = ?2", team, modelId)
                .withLock(LockModeType.PESSIMISTIC_WRITE).firstResult();
    }

    /**
     * Points the model's deployment at its serving version; a new version starts deploying. The
     * version that answers until then keeps answering until the new one is ready (a promotion, a
     * newer version registered), unless it is {@code withdrawn}: the version this event archives.
     */
    private Uni<Deployment> follow(String team, String modelId, String modelType, String withdrawn) {
        // one query after the other: a reactive session runs one at a time
        return ServableVersion.<ServableVersion>list("team = ?1 and modelId = ?2", team, modelId).flatMap(versions ->
                locked(team, modelId).flatMap(current -> {
            Instant now = clock.instant();
            Optional<ServableVersion> serving = serving(versions);
            Deployment d = current;
            if (d == null) {
                d = new Deployment();
                d.team = team;
                d.modelId = modelId;
                d.createdAt = now;
            }
            d.modelType = modelType;
            d.backend = backend.name();
            d.updatedAt = now;
            List<String> replaced = new ArrayList<>();
            if (serving.isEmpty()) {
                String previous = d.servedName;
                replaced.add(previous);
                replaced.add(d.forgetPrevious());
                boolean announce = d.state != null && d.state != DeploymentState.REMOVED;
                String lastVersion = d.version;
                if (announce) {
                    LOG.infof("Model %s of team %s has no servable version (all archived); its deployment is removed", modelId, team);
                }
                d.state = DeploymentState.REMOVED;
                d.reason = allArchived(modelId);
                d.version = null;
                d.stage = null;
                d.artifact = null;
                d.servedName = null;
                d.promptTemplate = null;
                d.readyAt = null;
                d.replacedServedNames = names(replaced, null);
                Deployment removed = d;
                return d.<Deployment>persist().call(() -> announce
                        ? events.removed(removed, lastVersion, previous, removed.reason) : Uni.createFrom().voidItem());
            }
            ServableVersion v = serving.get();
            boolean same = v.version.equals(d.version) && v.artifact.equals(d.artifact)
                    && (d.state == DeploymentState.READY || d.state == DeploymentState.DEPLOYING);
            boolean back = !same && d.state == DeploymentState.DEPLOYING && v.version.equals(d.previousVersion)
                    && v.artifact.equals(d.previousArtifact) && !v.version.equals(withdrawn);
            if (same) {
                if (d.previousVersion != null && d.previousVersion.equals(withdrawn)) {
                    LOG.infof("Version %s of model %s of team %s was archived; it no longer answers while version %s deploys",
                            withdrawn, modelId, team, d.version);
                    replaced.add(d.forgetPrevious());
                }
                d.stage = v.stage;
            } else if (back) {
                // back to the version that still answers: it serves on, as it was loaded
                LOG.infof("Model %s of team %s serves version %s again; version %s, which was deploying, is not deployed",
                        modelId, team, v.version, d.version);
                replaced.add(d.servePrevious());
                d.stage = v.stage;
                d.state = DeploymentState.READY;
                d.reason = null;
                d.readyAt = now;
            } else {
                if (d.state == DeploymentState.READY && d.servedName != null && !d.version.equals(withdrawn)) {
                    d.keepAnsweringMeanwhile();
                } else if (d.previousServedName != null && !d.previousVersion.equals(withdrawn)) {
                    replaced.add(d.servedName); // the version that was deploying; the one answering meanwhile stays
                } else {
                    replaced.add(d.servedName);
                    replaced.add(d.forgetPrevious());
                }
                LOG.infof("Deploying version %s (%s) of model %s of team %s on the %s backend%s", v.version, v.stage, modelId,
                        team, backend.name(), d.previousVersion == null ? ""
                                : "; version " + d.previousVersion + " answers until it is ready");
                d.version = v.version;
                d.stage = v.stage;
                d.artifact = v.artifact;
                d.servedName = servedName(team, modelId, v.version, v.artifact);
                d.state = DeploymentState.DEPLOYING;
                d.reason = null;
                d.promptTemplate = null;
                d.readyAt = null;
            }
            d.replacedServedNames = names(replaced, d);
            Deployment changed = d;
            return d.<Deployment>persist().call(() -> back ? events.ready(changed) : Uni.createFrom().voidItem());
        }));
    }

    /** The adapters among {@code names} that {@code d} no longer uses (no null, no repeat). */
    private static List<String> names(List<String> names, Deployment d) {
        return names.stream().filter(n -> n != null && (d == null || !n.equals(d.servedName) && !n.equals(d.previousServedName)))
                .distinct().toList();
    }

    /** The production version, else the newest version not archived. */
    static Optional<ServableVersion> serving(List<ServableVersion> versions) {
        return versions.stream().filter(v -> ServableVersion.PRODUCTION.equals(v.stage)).max(NEWEST)
                .or(() -> versions.stream().filter(v -> !ServableVersion.ARCHIVED.equals(v.stage)).max(NEWEST));
    }

    // ------------------------------------------------------------------ deploying (after the event's transaction)

    /** Finishes a deployment that is deploying: its prompt, then its adapter on the server; stays deploying while the server starts. */
    public Uni<Void> deploy(Deployment d) {
        if (d == null || (d.state != DeploymentState.DEPLOYING && d.state != DeploymentState.READY)) {
            return Uni.createFrom().voidItem();
        }
        Optional<URI> server = backend.server(d.modelType);
        if (d.state == DeploymentState.READY) {
            // its stage may have changed: pinned in production, on demand otherwise
            return server.map(url -> loadAgain(url, d, "update")).orElse(Uni.createFrom().voidItem());
        }
        if (server.isEmpty()) {
            Optional<String> never = backend.unservable(d.modelType);
            if (never.isPresent()) {
                return failed(d.id, d.version, DeploymentState.DEPLOYING, never.get());
            }
            LOG.debugf("The %s server is not ready; %s waits for it", d.modelType, d.servedName);
            return Uni.createFrom().voidItem();
        }
        String version = d.version;
        return VertxContextSupport.executeBlocking(() -> readTemplate(d.artifact))
                .flatMap(template -> protocol.loadAdapter(server.get(), d.servedName, d.artifact, pinned(d)).replaceWith(template))
                .flatMap(template -> Panache.withTransaction(() -> Deployment.<Deployment>findById(d.id, LockModeType.PESSIMISTIC_WRITE).flatMap(now -> {
                    if (now == null || now.state != DeploymentState.DEPLOYING || !version.equals(now.version)) {
                        return Uni.createFrom().<String>nullItem();
                    }
                    now.state = DeploymentState.READY;
                    now.promptTemplate = template;
                    now.readyAt = clock.instant();
                    now.updatedAt = now.readyAt;
                    String previous = now.forgetPrevious();
                    LOG.infof("Model %s of team %s serves version %s as %s", now.modelId, now.team, now.version, now.servedName);
                    return now.persist().chain(() -> events.ready(now)).replaceWith(previous);
                })).flatMap(previous -> unload(d.modelType, previous)))
                .onFailure().recoverWithUni(e -> {
                    if (e instanceof StoreAway || e instanceof BackendException && !BackendException.refusal(e)) {
                        LOG.infof("Deploying %s waits: %s", d.servedName, e.getMessage());
                        return Uni.createFrom().voidItem();
                    }
                    return failed(d.id, version, DeploymentState.DEPLOYING, e instanceof BackendException b ? refusal(d, b) : e.getMessage());
                });
    }

    /**
     * A ready version's adapter loaded on its server again (the server restarted, or the version's
     * stage changed its pinning). A server that refuses it (a 4xx: e.g. the adapter was trained on
     * another base model than the server now runs) fails the deployment with the server's reason,
     * so requests get a 409 that says why instead of the server's refusal; any other failure is
     * logged, and the next request loads the adapter again.
     */
    private Uni<Void> loadAgain(URI url, Deployment d, String what) {
        return protocol.loadAdapter(url, d.servedName, d.artifact, pinned(d)).onFailure().recoverWithUni(e -> {
            if (BackendException.refusal(e)) {
                return refused(d, (BackendException) e);
            }
            LOG.warnf("Could not %s %s on the %s server: %s", what, d.servedName, d.modelType, e.getMessage());
            return Uni.createFrom().voidItem();
        });
    }

    /** The server refused a ready version's adapter: the deployment fails with the server's reason. */
    public Uni<Void> refused(Deployment d, BackendException refusal) {
        return failed(d.id, d.version, DeploymentState.READY, refusal(d, refusal)).onFailure().recoverWithItem(e -> {
            LOG.warnf("Could not record that %s cannot serve: %s", d.servedName, e.getMessage());
            return null;
        });
    }

    /** Why a deployment failed when the server refused its adapter. */
    public static String refusal(Deployment d, BackendException b) {
        return "the serving backend refused the adapter at " + d.artifact + ": " + b.getMessage();
    }

    /**
     * The version cannot serve: the deployment fails with the reason. A version that answered while
     * it deployed answers no more (the registry has replaced it); its adapter is unloaded.
     */
    private Uni<Void> failed(Long id, String version, DeploymentState from, String reason) {
        String[] type = {null};
        return Panache.withTransaction(() -> Deployment.<Deployment>findById(id, LockModeType.PESSIMISTIC_WRITE).flatMap(d -> {
            if (d == null || d.state != from || !version.equals(d.version)) {
                return Uni.createFrom().<String>nullItem();
            }
            LOG.warnf("Version %s of model %s of team %s cannot be deployed: %s", version, d.modelId, d.team, reason);
            d.state = DeploymentState.FAILED;
            d.reason = reason;
            d.updatedAt = clock.instant();
            type[0] = d.modelType;
            String previous = d.forgetPrevious();
            return d.persist().chain(() -> events.failed(d)).replaceWith(previous);
        })).flatMap(previous -> unload(type[0], previous));
    }

    /** The trainer's prompt_template.json beside the adapter, checked; a failure says what is missing. */
    Map<String, Object> readTemplate(String artifact) {
        String key = keyOf(artifact) + PromptTemplate.FILE;
        Map<String, Object> template;
        try (InputStream in = store.get(key)) {
            template = json.readValue(in, new TypeReference<Map<String, Object>>() {
            });
        } catch (UncheckedIOException e) {
            throw new StoreAway(store.uri(key), e);
        } catch (ObjectStore.ObjectStoreException | IOException e) {
            boolean exists;
            try {
                exists = store.exists(key);
            } catch (ObjectStore.ObjectStoreException failed) {
                if (!unreachable(failed)) {
                    throw new IllegalStateException("could not read " + store.uri(key) + ": " + failed.getMessage());
                }
                throw new StoreAway(store.uri(key), failed);
            }
            if (!exists) {
                throw new IllegalStateException("the artifacts at " + artifact + " have no " + PromptTemplate.FILE
                        + " (the prompt the model was trained with); train it again with this platform's trainer");
            }
            throw new IllegalStateException("could not read " + store.uri(key) + ": " + e.getMessage());
        }
        try {
            PromptTemplate.of(template);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(store.uri(key) + " cannot be used: " + e.getMessage());
        }
        return template;
    }

    /** A failure to reach the store (its connection), not a refusal of it (access denied, say). */
    private static boolean unreachable(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof IOException) {
                return true;
            }
        }
        return false;
    }

    /** The object store could not be reached: the deployment waits for it (reconciliation tries again). */
    static final class StoreAway extends RuntimeException {
        StoreAway(String uri, Throwable cause) {
            super("the object store cannot be reached to read " + uri + " (" + cause.getMessage() + ")", cause);
        }
    }

    /** The key in this installation's bucket of an {@code s3://bucket/key/} artifact, ending with '/'. */
    private String keyOf(String artifact) {
        String prefix = "s3://" + store.bucket() + "/";
        if (artifact == null || !artifact.startsWith(prefix)) {
            throw new IllegalStateException("the adapter " + artifact + " is not in this installation's bucket (" + prefix + ")");
        }
        String key = artifact.substring(prefix.length());
        return key.endsWith("/") ? key : key + "/";
    }

    /** A server is ready: its ready adapters are loaded again (it may have restarted), its waiting deployments finished. */
    Uni<Void> serverReady(String modelType, URI url) {
        return Panache.withSession(() -> Deployment.<Deployment>list("modelType = ?1 and backend = ?2 and state in ?3", modelType,
                        backend.name(), List.of(DeploymentState.READY, DeploymentState.DEPLOYING)))
                .flatMap(all -> Multi.createFrom().iterable(all)
                        .onItem().transformToUniAndConcatenate(d -> d.state == DeploymentState.READY
                                ? loadAgain(url, d, "load again")
                                : deploy(d))
                        .collect().last())
                .invoke(() -> LOG.infof("The %s server is ready; its adapters are loaded", modelType))
                .replaceWithVoid();
    }

    /** Retries what is still deploying (a server that was not ready, a store that was away). */
    @Scheduled(every = "${mlinfra.inference.reconcile-interval}", delayed = "2s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> reconcile() {
        if (stopping) {
            return Uni.createFrom().voidItem();
        }
        return Panache.withSession(() -> Deployment.<Deployment>list("backend = ?1 and state = ?2", backend.name(),
                        DeploymentState.DEPLOYING))
                .flatMap(open -> Multi.createFrom().iterable(open).onItem().transformToUniAndConcatenate(this::deploy)
                        .collect().last())
                .replaceWithVoid()
                .onFailure().recoverWithItem(e -> {
                    LOG.warnf("Deployment round failed, the next round retries: %s", e.toString());
                    return null;
                });
    }

    /** Starts the servers of the deployments there are (after a restart of this service). */
    @Scheduled(every = "${mlinfra.inference.reconcile-interval}", delayed = "1s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> keepServersUp() {
        if (stopping) {
            return Uni.createFrom().voidItem();
        }
        return Panache.withSession(() -> Deployment.<Deployment>list("backend = ?1 and state in ?2", backend.name(),
                        List.of(DeploymentState.READY, DeploymentState.DEPLOYING)))
                .invoke(all -> all.stream().map(d -> d.modelType).distinct().forEach(backend::server))
                .replaceWithVoid()
                .onFailure().recoverWithItem(e -> null);
    }

    /**
     * Unloads the adapters of a deleted model; best effort (a server that restarted has forgotten
     * them anyway). The server of its type is released when no servable model of that type remains.
     */
    public Uni<Void> unload(Deployment gone) {
        return gone == null ? Uni.createFrom().voidItem()
                : unload(gone.modelType, Arrays.asList(gone.servedName, gone.previousServedName))
                        .chain(() -> releaseIfUnused(gone.modelType));
    }

    /**
     * Unloads the adapters of the versions a change took out of service (replaced, archived); a
     * removed deployment (all archived) releases its server as {@link #unload(Deployment)} does.
     */
    public Uni<Void> unloadReplaced(Deployment d) {
        if (d == null) {
            return Uni.createFrom().voidItem();
        }
        Uni<Void> unloaded = unload(d.modelType, d.replacedServedNames);
        return d.state == DeploymentState.REMOVED ? unloaded.chain(() -> releaseIfUnused(d.modelType)) : unloaded;
    }

    /** Tells the backend that no servable model of the type is left, if none is (a cluster server costs GPUs while it idles). */
    private Uni<Void> releaseIfUnused(String modelType) {
        if (modelType == null) {
            return Uni.createFrom().voidItem();
        }
        Instant asOf = clock.instant();
        return Panache.withSession(() -> Deployment.count("modelType = ?1 and backend = ?2 and state in ?3", modelType,
                        backend.name(), List.of(DeploymentState.READY, DeploymentState.DEPLOYING)))
                .invoke(servable -> {
                    if (servable == 0) {
                        LOG.infof("No servable %s model is left on the %s backend; releasing its server", modelType, backend.name());
                        backend.release(modelType, asOf);
                    }
                })
                .replaceWithVoid()
                .onFailure().recoverWithItem(e -> {
                    LOG.warnf("Could not tell whether a %s model is still served: %s", modelType, e.toString());
                    return null;
                });
    }

    private Uni<Void> unload(String modelType, List<String> servedNames) {
        return Multi.createFrom().iterable(servedNames.stream().filter(Objects::nonNull).toList())
                .onItem().transformToUniAndConcatenate(name -> unload(modelType, name)).collect().last().replaceWithVoid();
    }

    private Uni<Void> unload(String modelType, String servedName) {
        if (servedName == null) {
            return Uni.createFrom().voidItem();
        }
        LOG.infof("Unloading %s from the %s server", servedName, modelType);
        return backend.server(modelType).map(url -> protocol.unloadAdapter(url, servedName)
                .onFailure().recoverWithItem(e -> {
                    LOG.warnf("Could not unload %s from the %s server now (%s); it stays there until it is unloaded (on the"
                            + " servers this service runs, by the adapter sweep)", servedName, modelType, e.getMessage());
                    return null;
                })).orElse(Uni.createFrom().voidItem());
    }

    /**
     * Unloads from each ready server that this backend runs the adapters no deployment serves (ready
     * or deploying). The unloads that follow events are best effort: a server that did not answer
     * then, or a load still in flight when its version was archived (a reconciliation round, a
     * request that found its adapter gone), leaves an adapter behind; this round removes it. The
     * server is listed before the deployments are read, so an adapter loaded for a deployment is
     * always read with that deployment. An adapter is unloaded only when two rounds in a row found
     * it unserved, so a version that serves again (promoted back) between a round's read and its
     * unload is rarely caught; one that is gets its adapter loaded again by its next request.
     */
    @Scheduled(every = "${mlinfra.inference.adapter-sweep-interval}", delayed = "5s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> sweepAdapters() {
        if (stopping) {
            return Uni.createFrom().voidItem();
        }
        List<ServingBackend.ServerStatus> ready = backend.servers().stream()
                .filter(s -> "ready".equals(s.state()) && s.url() != null).toList();
        unserved.keySet().retainAll(ready.stream().map(s -> URI.create(s.url())).toList());
        return Multi.createFrom().iterable(ready).onItem()
                .transformToUniAndConcatenate(s -> sweep(s.modelType(), URI.create(s.url())))
                .collect().last().replaceWithVoid();
    }

    private Uni<Void> sweep(String modelType, URI server) {
        return protocol.models(server).map(DeploymentService::adapterNames)
                .flatMap(loaded -> loaded.isEmpty() ? Uni.createFrom().item(List.<String>of())
                        : Panache.withSession(() -> Deployment.<Deployment>list("(servedName in ?1 or previousServedName in ?1)"
                                + " and state in ?2", loaded, List.of(DeploymentState.READY, DeploymentState.DEPLOYING)))
                        .map(servable -> {
                            Set<String> served = servable.stream()
                                    .flatMap(d -> Stream.of(d.servedName, d.previousServedName))
                                    .filter(Objects::nonNull).collect(Collectors.toSet());
                            return loaded.stream().filter(name -> !served.contains(name)).toList();
                        }))
                .flatMap(stale -> {
                    Set<String> before = unserved.getOrDefault(server, Set.of());
                    unserved.put(server, Set.copyOf(stale));
                    return Multi.createFrom().iterable(stale.stream().filter(before::contains).toList())
                            .onItem().transformToUniAndConcatenate(name -> {
                                LOG.infof("Unloading %s from the %s server: no deployment serves it", name, modelType);
                                return protocol.unloadAdapter(server, name).onFailure().recoverWithItem(e -> {
                                    LOG.warnf("Could not unload %s from the %s server; the next sweep tries again: %s", name,
                                            modelType, e.getMessage());
                                    return null;
                                });
                            }).collect().last().replaceWithVoid();
                })
                .onFailure().recoverWithItem(e -> {
                    LOG.warnf("Could not sweep the adapters of the %s server at %s; the next round tries again: %s", modelType,
                            server, e.getMessage());
                    return null;
                });
    }

    /** The adapters in a server's {@code /v1/models}: the models with a parent (the base model has none). */
    static List<String> adapterNames(JsonNode models) {
        List<String> names = new ArrayList<>();
        for (JsonNode m : models.path("data")) {
            if (m.hasNonNull("parent") && m.hasNonNull("id")) {
                names.add(m.get("id").asText());
            }
        }
        return names;
    }

    // ------------------------------------------------------------------ reads

    public Uni<Deployment> find(String team, String modelId) {
        return Panache.withSession(() -> Deployment.<Deployment>find("team = ?1 and modelId = ?2", team, modelId).firstResult());
    }

    /**
     * A model's deployment (null: none) as last read, the number of deployment writes when the read
     * began, and when it began ({@link System#nanoTime()}).
     */
    private record Lookup(Deployment deployment, long changes, long readAtNanos) {
    }

    /** The key of a model's remembered lookup. */
    private record Model(String team, String modelId) {

        @Override
        public String toString() {
            return "model " + modelId + " of team " + team;
        }
    }

    /**
     * {@link #find} for the inference path, from memory when possible: a lookup is remembered for
     * the cache {@value #LOOKUPS}'s expire-after-write (1 s) and forgotten at once when this
     * replica writes any deployment, so a change it applies (a model archived, a version promoted)
     * holds from the next request on, and one applied by another replica within that second. The
     * database read and its session were about a quarter of inference-service's CPU per request.
     * A lookup in use is read again ahead of its expiry ({@link ReadAhead}), so that a model's
     * requests do not wait for the database (the counter {@value #READS} counts the reads by
     * whether a request waited). The deployment returned is a detached copy that nobody changes.
     */
    public Uni<Deployment> servable(String team, String modelId) {
        Model key = new Model(team, modelId);
        long changes = Deployment.changes();
        long now = System.nanoTime();
        CompletableFuture<Object> remembered = lookups.getIfPresent(key);
        if (remembered != null && remembered.isDone() && !remembered.isCompletedExceptionally()
                && remembered.join() instanceof Lookup lookup && lookup.changes == changes
                && ahead.fresh(lookup.readAtNanos, now)) {
            ahead.refreshIfDue(key, lookup.readAtNanos, now, () -> find(team, modelId),
                    (d, readAt) -> remember(key, d, changes, readAt));
            return Uni.createFrom().item(lookup.deployment);
        }
        ahead.onRequest();
        return find(team, modelId).invoke(d -> remember(key, d, changes, now));
    }

    private void remember(Model key, Deployment d, long changes, long readAtNanos) {
        lookups.put(key, CompletableFuture.completedFuture(new Lookup(d, changes, readAtNanos)));
    }

    /** The team's deployments under the filters (null: any), most recently changed first, and how many there are. */
    public Uni<io.smallrye.mutiny.tuples.Tuple2<List<Deployment>, Long>> list(String team, DeploymentState state,
            String modelType, dev.mlinfra.commons.api.PageParams page) {
        dev.mlinfra.commons.persistence.Filters f = dev.mlinfra.commons.persistence.Filters.where("team", team)
                .and("state", state).and("modelType", modelType);
        return Panache.withSession(() -> Deployment.<Deployment>find(f.query() + " order by updatedAt desc, id desc", f.parameters())
                .range(page.offset(), page.offset() + page.limit() - 1).list()
                .flatMap(items -> Deployment.count(f.query(), f.parameters()).map(n -> io.smallrye.mutiny.tuples.Tuple2.of(items, n))));
    }

    /** The team's models that answer now, as they answer ({@link Deployment#answering()}), by model id. */
    public Uni<List<Deployment>> answering(String team) {
        return Panache.withSession(() -> Deployment.<Deployment>list("team = ?1 and (state = ?2 or state = ?3 and"
                + " previousServedName is not null) order by modelId", team, DeploymentState.READY, DeploymentState.DEPLOYING))
                .map(all -> all.stream().map(Deployment::answering).toList());
    }

    public ServingBackend backend() {
        return backend;
    }

    public InferenceConfig config() {
        return config;
    }

    /** Why a model none of whose versions is servable cannot answer. */
    static String allArchived(String modelId) {
        return "every version of model '" + modelId + "' is archived; promote one to staging or production to serve it";
    }
}
