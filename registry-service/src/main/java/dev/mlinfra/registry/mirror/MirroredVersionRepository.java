package dev.mlinfra.registry.mirror;

import io.quarkus.hibernate.reactive.panache.PanacheRepositoryBase;
import io.quarkus.hibernate.reactive.panache.common.WithSession;
import io.quarkus.panache.common.Parameters;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;

/** The mirror's memory of what it wrote to MLflow, one row per mirrored version. */
@ApplicationScoped
@WithSession
public class MirroredVersionRepository implements PanacheRepositoryBase<MirroredVersion, Long> {

    /** Every mirrored version of the model, oldest first. */
    public Uni<List<MirroredVersion>> ofModel(ModelName model) {
        return find("#" + MirroredVersion.OF_MODEL, Parameters.with("name", model.mlflowName())).list();
    }

    /** Forgets every version of the model, in one statement; returns how many rows went. */
    public Uni<Long> forgetModel(ModelName model) {
        return delete("mlflowName", model.mlflowName());
    }
}
