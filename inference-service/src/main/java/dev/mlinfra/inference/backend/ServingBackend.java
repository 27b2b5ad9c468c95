package dev.mlinfra.inference.backend;

import java.net.URI;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.BiConsumer;

/**
 * Where models are served: a server per base model type that speaks the vLLM/OpenAI server API
 * ({@link OpenAiProtocol}). The local backend runs model-server processes on this machine; the
 * openai backend names servers by URL (a vLLM of one's own); a cluster backend gives the URL of an
 * inference service in the cluster. Inference-service only ever sees this interface.
 */
public interface ServingBackend {

    /** Its name in configuration and in deployments. */
    String name();

    /**
     * The base URL of the server of a model type once it can answer; empty while it starts. The
     * first ask for a type may start its server.
     */
    Optional<URI> server(String modelType);

    /**
     * Why no server of the type can ever come as configured (a backend that only knows servers
     * by URL, and has none for the type); empty when one runs, or will once it has started.
     */
    default Optional<String> unservable(String modelType) {
        return Optional.empty();
    }

    /** Called with the model type and URL whenever a server becomes ready (first start and every restart), so its adapters are loaded (again). */
    void onReady(BiConsumer<String, URI> listener);

    /**
     * No servable model of the type remained when the deployments were read at {@code asOf}: a
     * backend that runs servers on demand may stop its server, unless {@link #server} asked for
     * it since then (a model of that type was deployed meanwhile).
     */
    default void release(String modelType, Instant asOf) {
        // servers that this service does not run, or that stay up with it, are kept
    }

    /** The servers it knows of, for status pages. */
    List<ServerStatus> servers();

    /**
     * A server of the backend.
     *
     * @param modelType the base model it serves
     * @param url       where it answers
     * @param state     starting, ready, restarting or configured (a server this backend does not run)
     * @param pid       its process, when this backend runs it
     * @param restarts  how often it was started again after it ended
     * @param lastExit  why it last ended, if it did
     */
    record ServerStatus(String modelType, String url, String state, Long pid, int restarts, String lastExit) {
    }
}
