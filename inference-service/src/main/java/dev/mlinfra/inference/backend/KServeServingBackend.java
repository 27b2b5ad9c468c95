package dev.mlinfra.inference.backend;

import dev.mlinfra.inference.config.InferenceConfig;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.quarkus.runtime.ShutdownEvent;
import io.smallrye.common.annotation.Identifier;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.net.HttpURLConnection;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BiConsumer;
import org.jboss.logging.Logger;

/**
 * Servers in a Kubernetes cluster: one KServe object per base model type ({@link KServeObjects}),
 * named {@code mlinfra-<type>}, created in {@code mlinfra.inference.kserve.namespace} when the
 * first model of its type is deployed and deleted when no servable model of that type is left.
 * An informer on the objects this service manages (by label) keeps their state: a server is the
 * object's {@code status.url} (with the OpenAI path) once its {@code Ready} condition is true, and
 * the {@link #onReady} listeners load its adapters whenever it becomes ready. After a restart the
 * informer's first list adopts the objects already in the cluster; none is created twice.
 *
 * <p>It needs {@code get, list, watch, create, delete} on the kind's objects in its namespace,
 * nothing more: an object is never changed, only created or deleted. Nothing talks to the cluster
 * unless this backend is selected.
 */
@ApplicationScoped
@Identifier(KServeServingBackend.NAME)
public class KServeServingBackend implements ServingBackend {

    public static final String NAME = "kserve";
    private static final Logger LOG = Logger.getLogger(KServeServingBackend.class);
    /** How long a failed create waits before the next ask for the server tries again. */
    private static final Duration CREATE_RETRY = Duration.ofSeconds(10);

    private final KubernetesClient client;
    private final KServeObjects objects;
    private final String namespace;
    private final Clock clock = Clock.systemUTC();
    private final List<BiConsumer<String, URI>> listeners = new CopyOnWriteArrayList<>();
    /** What is known of each model type's server, beyond the informer's copy of its object. */
    private final Map<String, Wanted> wanted = new ConcurrentHashMap<>();
    /** The URL last announced to the listeners per type; a ready object with another URL is announced again. */
    private final Map<String, URI> announced = new ConcurrentHashMap<>();
    /** Creates and deletes, off the callers' threads (the event loop among them). */
    private final ExecutorService changes = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "kserve-backend");
        t.setDaemon(true);
        return t;
    });
    private volatile SharedIndexInformer<GenericKubernetesResource> informer;

    public KServeServingBackend(InferenceConfig config, KubernetesClient client) {
        this.client = client;
        this.objects = new KServeObjects(config.kserve());
        this.namespace = config.kserve().namespace().filter(n -> !n.isBlank())
                .orElseGet(() -> client.getNamespace() == null ? "default" : client.getNamespace());
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public void onReady(BiConsumer<String, URI> listener) {
        listeners.add(listener);
        informer();
    }

    @Override
    public Optional<URI> server(String modelType) {
        SharedIndexInformer<GenericKubernetesResource> inf = informer();
        Wanted w = wanted.computeIfAbsent(modelType, Wanted::new);
        w.askedAt = clock.instant();
        GenericKubernetesResource object = inf.getStore().getByKey(namespace + "/" + KServeObjects.name(modelType));
        if (object != null) {
            return objects.url(object);
        }
        // before the first list the cache may lack an object that exists: never create blindly
        if (inf.hasSynced() && !w.creating && !clock.instant().isBefore(w.retryAt)) {
            w.creating = true;
            changes.execute(() -> create(w));
        }
        return Optional.empty();
    }

    @Override
    public void release(String modelType, Instant asOf) {
        Wanted w = wanted.get(modelType);
        if (w != null && w.askedAt.isAfter(asOf)) {
            LOG.debugf("The %s server was asked for since %s; it stays", modelType, asOf);
            return;
        }
        informer();
        // after a create still under way, when there is one
        changes.execute(() -> delete(modelType, asOf));
    }

    @Override
    public List<ServerStatus> servers() {
        SharedIndexInformer<GenericKubernetesResource> inf = informer();
        List<ServerStatus> all = new ArrayList<>();
        for (GenericKubernetesResource r : inf.getStore().list()) {
            String type = KServeObjects.modelType(r);
            String state = r.getMetadata().getDeletionTimestamp() != null ? "deleting" : KServeObjects.ready(r) ? "ready" : "starting";
            String url = objects.url(r).map(URI::toString).orElse(KServeObjects.statusUrl(r).orElse(null));
            all.add(new ServerStatus(type, url, state, null, 0, KServeObjects.notReadyBecause(r)));
        }
        for (Wanted w : wanted.values()) {
            if (all.stream().noneMatch(s -> w.modelType.equals(s.modelType())) && (w.creating || w.problem != null)) {
                all.add(new ServerStatus(w.modelType, null, "starting", null, 0, w.problem));
            }
        }
        all.sort(Comparator.comparing(ServerStatus::modelType, Comparator.nullsLast(Comparator.naturalOrder())));
        return all;
    }

    private void create(Wanted w) {
        try {
            GenericKubernetesResource object = objects.create(w.modelType, namespace);
            client.genericKubernetesResources(objects.context()).inNamespace(namespace).resource(object).create();
            w.problem = null;
            LOG.infof("Created %s %s/%s for the %s models", objects.kind(), namespace, KServeObjects.name(w.modelType), w.modelType);
        } catch (KubernetesClientException e) {
            if (e.getCode() == HttpURLConnection.HTTP_CONFLICT) {
                // there already: the informer brings it (or it is someone else's object of that name)
                w.problem = "an object named " + KServeObjects.name(w.modelType) + " exists; it serves once it carries the label "
                        + KServeObjects.MANAGED_BY + "=" + KServeObjects.MANAGER;
                LOG.warnf("Could not create %s %s/%s: it exists", objects.kind(), namespace, KServeObjects.name(w.modelType));
            } else {
                w.problem = "could not create " + objects.kind() + " " + KServeObjects.name(w.modelType) + ": " + e.getMessage();
                LOG.errorf("The %s server: %s", w.modelType, w.problem);
            }
            w.retryAt = clock.instant().plus(CREATE_RETRY);
        } catch (IllegalStateException e) {
            w.problem = e.getMessage();
            w.retryAt = clock.instant().plus(CREATE_RETRY);
            LOG.errorf("Cannot serve %s models: %s", w.modelType, w.problem);
        } finally {
            w.creating = false;
        }
    }

    private void delete(String modelType, Instant asOf) {
        Wanted w = wanted.get(modelType);
        if (w != null && w.askedAt.isAfter(asOf)) {
            return;
        }
        try {
            boolean deleted = !client.genericKubernetesResources(objects.context()).inNamespace(namespace)
                    .withName(KServeObjects.name(modelType)).delete().isEmpty();
            wanted.remove(modelType);
            if (!deleted) {
                return;
            }
            LOG.infof("Deleted %s %s/%s: no %s model is served", objects.kind(), namespace, KServeObjects.name(modelType), modelType);
        } catch (KubernetesClientException e) {
            LOG.errorf("Could not delete %s %s/%s: %s", objects.kind(), namespace, KServeObjects.name(modelType), e.getMessage());
        }
    }

    /** The informer of this service's objects, started on first use (only this backend ever talks to the cluster). */
    private SharedIndexInformer<GenericKubernetesResource> informer() {
        SharedIndexInformer<GenericKubernetesResource> inf = informer;
        if (inf != null) {
            return inf;
        }
        synchronized (this) {
            if (informer == null) {
                inf = client.genericKubernetesResources(objects.context()).inNamespace(namespace)
                        .withLabel(KServeObjects.MANAGED_BY, KServeObjects.MANAGER).runnableInformer(0);
                inf.addEventHandler(new Changes());
                inf.exceptionHandler((started, e) -> {
                    LOG.warnf("Watching the %s objects in %s failed, trying again: %s", objects.kind(), namespace, e.getMessage());
                    return true;
                });
                inf.start().whenComplete((v, e) -> {
                    if (e == null) {
                        LOG.infof("Following the %s objects labelled %s=%s in namespace %s", objects.kind(), KServeObjects.MANAGED_BY,
                                KServeObjects.MANAGER, namespace);
                    }
                });
                informer = inf;
            }
            return informer;
        }
    }

    void stop(@Observes ShutdownEvent event) {
        changes.shutdownNow();
        SharedIndexInformer<GenericKubernetesResource> inf = informer;
        if (inf != null) {
            inf.close();
        }
    }

    /** Announces a server when its object becomes ready, or ready at another URL. */
    private final class Changes implements ResourceEventHandler<GenericKubernetesResource> {

        @Override
        public void onAdd(GenericKubernetesResource r) {
            changed(r);
        }

        @Override
        public void onUpdate(GenericKubernetesResource before, GenericKubernetesResource after) {
            changed(after);
        }

        @Override
        public void onDelete(GenericKubernetesResource r, boolean finalStateUnknown) {
            String type = KServeObjects.modelType(r);
            if (type != null) {
                announced.remove(type);
                LOG.infof("%s %s/%s is gone", objects.kind(), namespace, r.getMetadata().getName());
            }
        }

        private void changed(GenericKubernetesResource r) {
            String type = KServeObjects.modelType(r);
            if (type == null) {
                return;
            }
            Optional<URI> url = objects.url(r);
            if (url.isEmpty()) {
                if (announced.remove(type) != null) {
                    LOG.warnf("The %s server %s/%s is not ready: %s", type, namespace, r.getMetadata().getName(),
                            KServeObjects.notReadyBecause(r));
                }
                return;
            }
            if (url.get().equals(announced.put(type, url.get()))) {
                return;
            }
            LOG.infof("The %s server %s/%s is ready at %s", type, namespace, r.getMetadata().getName(), url.get());
            for (BiConsumer<String, URI> l : listeners) {
                try {
                    l.accept(type, url.get());
                } catch (RuntimeException e) {
                    LOG.errorf(e, "A listener failed on the ready %s server", type);
                }
            }
        }
    }

    /** A model type whose server was asked for. */
    private static final class Wanted {
        final String modelType;
        volatile Instant askedAt = Instant.MIN;
        volatile Instant retryAt = Instant.MIN;
        volatile boolean creating;
        volatile String problem;

        Wanted(String modelType) {
            this.modelType = modelType;
        }
    }
}
