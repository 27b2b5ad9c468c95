package dev.mlinfra.datasets.repository;

import dev.mlinfra.datasets.DatasetUse;
import io.quarkus.hibernate.reactive.panache.PanacheRepositoryBase;
import io.quarkus.hibernate.reactive.panache.common.WithSession;
import io.quarkus.panache.common.Sort;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;

/** Which training jobs train on which datasets. */
@ApplicationScoped
@WithSession
public class DatasetUseRepository implements PanacheRepositoryBase<DatasetUse, String> {

    /** The open jobs that train on a dataset of a team, oldest first. */
    public Uni<List<DatasetUse>> openUses(String team, String datasetId) {
        return find("team = ?1 and datasetId = ?2 and open = true", Sort.ascending("jobId"), team, datasetId).list();
    }
}
