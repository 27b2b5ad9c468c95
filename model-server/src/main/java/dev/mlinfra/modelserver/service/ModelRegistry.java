package dev.mlinfra.modelserver.service;

import ai.djl.ndarray.NDManager;
import dev.mlinfra.engine.EngineRuntime;
import dev.mlinfra.engine.artifact.ArtifactStore;
import dev.mlinfra.engine.artifact.S3Settings;
import dev.mlinfra.engine.model.LoraAdapter;
import dev.mlinfra.engine.model.ModelStore;
import dev.mlinfra.modelserver.config.ModelServerConfig;
import dev.mlinfra.modelserver.config.S3Config;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jboss.logging.Logger;

/**
 * The base model and the LoRA adapters registered on top of it. Any number of adapters can be
 * registered; at most {@code max-loras} are held in the LRU, the least recently used one is
 * dropped beyond that and read again from its path when a request names it. Pinned adapters are
 * held apart from the LRU: always in memory, never evicted, not counted against {@code max-loras}.
 *
 * <p>Requests hold an adapter through a {@link Lease}. Eviction and unloading only take an adapter
 * out of the LRU; its weights are closed once no lease uses them any more, so a generation never
 * runs on closed weights. The registry's state is guarded by its own private lock, which is held
 * only for bookkeeping, never while reading an adapter or generating.
 */
@ApplicationScoped
public class ModelRegistry {

    private static final Logger LOG = Logger.getLogger(ModelRegistry.class);

    private final ModelServerConfig config;
    private final S3Config s3Config;
    private NDManager manager;
    private ModelStore.Loaded base;
    private String baseName;
    /** Guards {@code registered}, {@code resident}, {@code pinned} and every {@link Resident}'s counters. */
    private final Object lock = new Object();
    private final Map<String, Registration> registered = new LinkedHashMap<>();
    /** The LRU of unpinned adapters in memory, in access order. */
    private final LinkedHashMap<String, Resident> resident = new LinkedHashMap<>(16, 0.75f, true);
    /** Pinned adapters: in memory until unpinned or unloaded, outside the LRU. */
    private final Map<String, Resident> pinned = new HashMap<>();

    /** An adapter known to the server. */
    public record Registration(String name, String path, long created) {
    }

    /** A registered adapter as it stands now: {@code resident} when its weights are in memory. */
    public record AdapterState(Registration registration, boolean pinned, boolean resident) {
    }

    /** What a request runs on: the base and, optionally, an adapter. */
    public record Target(String name, ModelStore.Loaded base, LoraAdapter adapter) {
    }

    /** Adapter weights in memory and the leases using them. */
    private static final class Resident {
        final LoraAdapter adapter;
        int users;
        /** Out of the LRU (evicted or unloaded): closed when the last user lets go. */
        boolean retired;

        Resident(LoraAdapter adapter) {
            this.adapter = adapter;
        }
    }

    /** A request's hold on its target; closing it lets an evicted or unloaded adapter be closed. */
    public final class Lease implements AutoCloseable {
        private final Target target;
        private final Resident resident;
        private boolean released;

        private Lease(Target target, Resident resident) {
            this.target = target;
            this.resident = resident;
        }

        public Target target() {
            return target;
        }

        @Override
        public void close() {
            if (resident == null) {
                return;
            }
            synchronized (lock) {
                if (released) {
                    return;
                }
                released = true;
                resident.users--;
                closeIfUnused(resident);
            }
        }
    }

    public ModelRegistry(ModelServerConfig config, S3Config s3Config) {
        this.config = config;
        this.s3Config = s3Config;
    }

    void onStart(@Observes StartupEvent event) throws IOException {
        config.dataDir().ifPresent(d -> System.setProperty(EngineRuntime.DATA_DIR_PROPERTY, d));
        config.djlCacheDir().ifPresent(d -> System.setProperty(EngineRuntime.CACHE_DIR_PROPERTY, d));
        EngineRuntime.engine(config.threads());
        manager = NDManager.newBaseManager();
        String model = config.baseModel();
        if (model.equals("scout") || model.equals("maverick")) {
            Path dir = config.modelsDir().map(Paths::get).orElse(ModelStore.defaultBaseDir());
            base = ModelStore.loadBase(model, dir, manager);
        } else {
            base = ModelStore.loadModel(ArtifactStore.open(model, s3()), "", manager);
        }
        baseName = config.servedModelName().orElse("llama4-" + base.config().mlinfraVariant() + "-mini");
        LOG.infof("serving %s (%,d parameters, %d experts per MoE layer)", baseName, base.config().parameterCount(),
                base.config().numLocalExperts());
    }

    void onStop(@Observes ShutdownEvent event) {
        synchronized (lock) {
            resident.values().forEach(this::retire);
            resident.clear();
            pinned.values().forEach(this::retire);
            pinned.clear();
        }
        if (base != null) {
            base.close();
        }
        if (manager != null) {
            manager.close();
        }
    }

    private S3Settings s3() {
        return s3Config.endpoint().map(e -> new S3Settings(e, s3Config.accessKey().orElse(null),
                s3Config.secretKey().orElse(null), s3Config.region().orElse(null))).orElse(S3Settings.fromEnvironment());
    }

    public String baseName() {
        return baseName;
    }

    public ModelStore.Loaded base() {
        return base;
    }

    /** Registered adapters, oldest first. */
    public List<AdapterState> adapters() {
        synchronized (lock) {
            List<AdapterState> out = new ArrayList<>(registered.size());
            for (Registration r : registered.values()) {
                boolean isPinned = pinned.containsKey(r.name());
                out.add(new AdapterState(r, isPinned, isPinned || resident.containsKey(r.name())));
            }
            return out;
        }
    }

    /**
     * Registers an adapter and reads it into memory, pinned or under the LRU (evicting the least
     * recently used unpinned adapter when full). Loading a name that is registered with the same
     * path again only sets whether it is pinned: pinning reads it when it was evicted, unpinning
     * puts it back under the LRU as its most recently used adapter.
     *
     * @return true when the name was registered now, false when it was registered already
     * @throws IllegalStateException when the name is the base's, or registered with another path
     */
    public boolean load(String name, String path, boolean pin) throws IOException {
        while (true) {
            Registration known;
            synchronized (lock) {
                known = registration(name, path);
                if (known != null && setPinned(name, pin)) {
                    return false;
                }
            }
            // Read without the lock: requests keep resolving their adapters meanwhile.
            LoraAdapter adapter = read(path);
            synchronized (lock) {
                Registration now;
                try {
                    now = registration(name, path);
                } catch (IllegalStateException e) {
                    adapter.close();
                    throw e;
                }
                if (known == null && now == null) {
                    registered.put(name, new Registration(name, path, Instant.now().getEpochSecond()));
                    if (pin) {
                        pin(name, new Resident(adapter));
                    } else {
                        makeResident(name, new Resident(adapter));
                    }
                    return true;
                }
                if (known != null && now == known) {
                    // Pinning an adapter that was evicted: into memory without passing through the LRU.
                    if (pinned.containsKey(name) || resident.containsKey(name)) {
                        adapter.close(); // a request read it meanwhile
                        setPinned(name, true);
                    } else {
                        pin(name, new Resident(adapter));
                    }
                    return false;
                }
                // registered, unloaded or registered again meanwhile: decide again on what is there now
                adapter.close();
            }
        }
    }

    /** The registration of {@code name}, or null when unknown; an error when the name is taken otherwise. */
    private Registration registration(String name, String path) {
        if (name.equals(baseName)) {
            throw new IllegalStateException("The lora adapter '" + name + "' has already been loaded.");
        }
        Registration r = registered.get(name);
        if (r != null && !r.path().equals(path)) {
            throw new IllegalStateException("The lora adapter '" + name + "' is loaded from " + r.path()
                    + "; unload it before loading it from " + path + ".");
        }
        return r;
    }

    /**
     * Pins or unpins a registered adapter; false when it must be pinned but its weights are not in
     * memory (the caller reads them first).
     */
    private boolean setPinned(String name, boolean pin) {
        if (pin) {
            if (pinned.containsKey(name)) {
                return true;
            }
            Resident r = resident.remove(name);
            if (r == null) {
                return false;
            }
            pin(name, r);
        } else {
            Resident r = pinned.remove(name);
            if (r != null) {
                LOG.infof("unpinned adapter %s", name);
                makeResident(name, r);
            }
        }
        return true;
    }

    private void pin(String name, Resident r) {
        pinned.put(name, r);
        LOG.infof("pinned adapter %s", name);
    }

    /** Unregisters an adapter; false when it is unknown. A request still using it finishes on it. */
    public boolean unload(String name) {
        synchronized (lock) {
            if (registered.remove(name) == null) {
                return false;
            }
            Resident r = pinned.remove(name);
            if (r == null) {
                r = resident.remove(name);
            }
            if (r != null) {
                retire(r);
            }
            return true;
        }
    }

    /**
     * Leases the base or an adapter by served name, or null when unknown; reads an evicted adapter
     * again and marks it as recently used. The caller closes the lease when done with the target.
     */
    public Lease acquire(String model) throws IOException {
        if (model == null || model.equals(baseName)) {
            return new Lease(new Target(baseName, base, null), null);
        }
        while (true) {
            Registration registration;
            synchronized (lock) {
                registration = registered.get(model);
                if (registration == null) {
                    return null;
                }
                Resident r = inMemory(model);
                if (r != null) {
                    return lease(model, r);
                }
            }
            // Read without the lock: other requests keep resolving their adapters meanwhile.
            LOG.infof("reloading evicted adapter %s from %s", model, registration.path());
            LoraAdapter adapter = read(registration.path());
            synchronized (lock) {
                Registration now = registered.get(model);
                if (now == registration) {
                    Resident r = inMemory(model);
                    if (r == null) {
                        r = new Resident(adapter);
                        makeResident(model, r);
                    } else {
                        adapter.close(); // another request read it first
                    }
                    return lease(model, r);
                }
                adapter.close();
                if (now == null) {
                    return null; // unloaded meanwhile
                }
                // unloaded and registered again under the same name: read the new registration
            }
        }
    }

    /** The adapter's weights when in memory, pinned or in the LRU (marking it as recently used there). */
    private Resident inMemory(String name) {
        Resident r = pinned.get(name);
        return r != null ? r : resident.get(name);
    }

    private Lease lease(String model, Resident r) {
        r.users++;
        return new Lease(new Target(model, base, r.adapter), r);
    }

    /** Puts an unpinned adapter into the LRU as its most recently used one; pinned ones do not count. */
    private void makeResident(String name, Resident adapter) {
        resident.put(name, adapter);
        while (resident.size() > Math.max(1, config.maxLoras())) {
            Map.Entry<String, Resident> eldest = resident.entrySet().iterator().next();
            LOG.infof("evicting adapter %s (max-loras %d)", eldest.getKey(), config.maxLoras());
            resident.remove(eldest.getKey());
            retire(eldest.getValue());
        }
    }

    /** Takes an adapter out of service: closed now when unused, else by its last lease. */
    private void retire(Resident r) {
        r.retired = true;
        closeIfUnused(r);
    }

    private static void closeIfUnused(Resident r) {
        if (r.retired && r.users == 0) {
            r.adapter.close();
        }
    }

    private LoraAdapter read(String path) throws IOException {
        return ModelStore.loadAdapter(ArtifactStore.open(path, s3()), "", base.model());
    }
}
