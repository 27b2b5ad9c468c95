package dev.mlinfra.registry.repository;

import dev.mlinfra.registry.ModelVersion;
import io.quarkus.hibernate.reactive.panache.PanacheRepositoryBase;
import io.quarkus.hibernate.reactive.panache.common.WithSession;
import io.quarkus.panache.common.Sort;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;

/** Versions of models. */
@ApplicationScoped
@WithSession
public class ModelVersionRepository implements PanacheRepositoryBase<ModelVersion, Long> {

    /** A model's versions, newest first. */
    public Uni<List<ModelVersion>> ofModel(Long modelRef) {
        return find("modelRef", Sort.descending("minor"), modelRef).list();
    }

    public Uni<ModelVersion> version(Long modelRef, String version) {
        return find("modelRef = ?1 and version = ?2", modelRef, version).firstResult();
    }

    /** The version a training job was registered as, in the team. */
    public Uni<ModelVersion> ofJob(String team, String trainingJobId) {
        return find("team = ?1 and trainingJobId = ?2", team, trainingJobId).firstResult();
    }

    /** The version a registration with this Idempotency-Key created, or null. */
    public Uni<ModelVersion> ofIdempotencyKey(String team, String key) {
        return find("team = ?1 and idempotencyKey = ?2", team, key).firstResult();
    }
}
