package dev.mlinfra.infra.probe;

import io.smallrye.mutiny.Uni;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Looks at one kind of component for real and says how it is. */
public interface ComponentProbe {

    /** A component's status under its key; {@code core} components down make the platform unhealthy. */
    record Entry(String key, ComponentStatus status, boolean core) {
    }

    /**
     * The entries of the components this probe knows (none when the component is not in use). Never fails:
     * a component that does not answer is an {@code unhealthy} entry with the reason. Should the probe not
     * finish within {@code timeout}, the caller reports its {@link #keys()} as timed out.
     *
     * @param forwarded headers that carry the caller's identity to peers' internal APIs
     */
    Uni<List<Entry>> probe(Map<String, String> forwarded, Duration timeout);

    /** The keys this probe reports (as far as it knows now) and whether each is core. */
    Map<String, Boolean> keys();

    /**
     * Every key this probe can report under, whatever it has seen so far (the object store is
     * {@code minio} or {@code object_storage} depending on what answers): the components whose
     * history can be asked for.
     */
    default Set<String> names() {
        return keys().keySet();
    }
}
