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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jboss.logging.Logger;

/**
 * The base model and the LoRA adapters registered on top of it. Any number of adapters can be
 * registered; at most {@code max-loras} are held in memory, the least recently used one is
 * dropped beyond that and read again from its path when a request names it.
 */
@ApplicationScoped
public class ModelRegistry {

    private static final Logger LOG = Logger.getLogger(ModelRegistry.class);

    private final ModelServerConfig config;
    private final S3Config s3Config;
    private NDManager manager;
    private ModelStore.Loaded base;
    private String baseName;
    private final Map<String, Registration> registered = new LinkedHashMap<>();
    private final LinkedHashMap<String, LoraAdapter> resident = new LinkedHashMap<>(16, 0.75f, true);

    /** An adapter known to the server. */
    public record Registration(String name, String path, long created) {
    }

    /** What a request runs on: the base and, optionally, an adapter. */
    public record Target(String name, ModelStore.Loaded base, LoraAdapter adapter) {
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
        synchronized (this) {
            resident.values().forEach(LoraAdapter::close);
            resident.clear();
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
    public synchronized List<Registration> adapters() {
        return new ArrayList<>(registered.values());
    }

    /** True when the adapter's weights are in memory now. */
    public synchronized boolean isResident(String name) {
        return resident.containsKey(name);
    }

    /** Registers and loads an adapter (evicting the least recently used one when full). */
    public synchronized void load(String name, String path) throws IOException {
        if (name.equals(baseName) || registered.containsKey(name)) {
            throw new IllegalStateException("The lora adapter '" + name + "' has already been loaded.");
        }
        LoraAdapter adapter = read(path);
        registered.put(name, new Registration(name, path, Instant.now().getEpochSecond()));
        makeResident(name, adapter);
    }

    /** Unregisters an adapter; false when it is unknown. */
    public synchronized boolean unload(String name) {
        if (registered.remove(name) == null) {
            return false;
        }
        LoraAdapter adapter = resident.remove(name);
        if (adapter != null) {
            adapter.close();
        }
        return true;
    }

    /** The base or an adapter by served name, or null when unknown. Marks the adapter as recently used. */
    public synchronized Target resolve(String model) throws IOException {
        if (model == null || model.equals(baseName)) {
            return new Target(baseName, base, null);
        }
        Registration r = registered.get(model);
        if (r == null) {
            return null;
        }
        LoraAdapter adapter = resident.get(model);
        if (adapter == null) {
            LOG.infof("reloading evicted adapter %s from %s", model, r.path());
            adapter = read(r.path());
            makeResident(model, adapter);
        }
        return new Target(model, base, adapter);
    }

    private void makeResident(String name, LoraAdapter adapter) {
        resident.put(name, adapter);
        while (resident.size() > Math.max(1, config.maxLoras())) {
            Map.Entry<String, LoraAdapter> eldest = resident.entrySet().iterator().next();
            LOG.infof("evicting adapter %s (max-loras %d)", eldest.getKey(), config.maxLoras());
            resident.remove(eldest.getKey());
            // Generation runs one request at a time under the generation lock held by callers
            // of resolve(), so no request is using the evicted adapter now.
            eldest.getValue().close();
        }
    }

    private LoraAdapter read(String path) throws IOException {
        return ModelStore.loadAdapter(ArtifactStore.open(path, s3()), "", base.model());
    }
}
