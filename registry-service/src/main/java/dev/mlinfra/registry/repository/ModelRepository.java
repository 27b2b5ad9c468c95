package dev.mlinfra.registry.repository;

import dev.mlinfra.commons.api.PageParams;
import dev.mlinfra.commons.persistence.Filters;
import dev.mlinfra.registry.Model;
import dev.mlinfra.registry.ModelStatus;
import dev.mlinfra.registry.Stage;
import io.quarkus.hibernate.reactive.panache.PanacheRepositoryBase;
import io.quarkus.hibernate.reactive.panache.common.WithSession;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.LockModeType;
import java.util.List;

/** Models in the service's database. */
@ApplicationScoped
@WithSession
public class ModelRepository implements PanacheRepositoryBase<Model, Long> {

    public Uni<Model> findModel(String team, String modelId) {
        return find("team = ?1 and modelId = ?2", team, modelId).firstResult();
    }

    /** The model, locked for the caller's transaction: one change of a model's versions at a time. */
    public Uni<Model> lockModel(String team, String modelId) {
        return find("team = ?1 and modelId = ?2", team, modelId).withLock(LockModeType.PESSIMISTIC_WRITE).firstResult();
    }

    /** A page of the team's models under the filters (null: any), newest first. */
    public Uni<List<Model>> list(String team, String modelType, ModelStatus status, Stage stage, PageParams page) {
        Filters f = Filters.where("team", team).and("modelType", modelType).and("status", status).and("currentStage", stage);
        return find(f.query() + " order by createdAt desc, id desc", f.parameters())
                .range(page.offset(), page.offset() + page.limit() - 1).list();
    }

    /**
     * The number of the team's models under the filters, from the counts triggers keep per team, type,
     * status and stage (V2 migration): a few rows to read however many models there are.
     */
    public Uni<Long> count(String team, String modelType, ModelStatus status, Stage stage) {
        return getSession().flatMap(s -> s.createNativeQuery("SELECT coalesce(sum(models), 0) FROM model_count"
                        + " WHERE team = ?1 AND model_type = coalesce(?2, model_type) AND status = coalesce(?3, status)"
                        + " AND stage = coalesce(?4, stage)", Long.class)
                .setParameter(1, team)
                .setParameter(2, modelType)
                .setParameter(3, status == null ? null : status.value())
                .setParameter(4, stage == null ? null : stage.value())
                .getSingleResult());
    }
}
