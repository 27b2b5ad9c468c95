package dev.mlinfra.registry.repository;

import dev.mlinfra.commons.api.PageParams;
import dev.mlinfra.registry.StageChange;
import io.quarkus.hibernate.reactive.panache.PanacheRepositoryBase;
import io.quarkus.hibernate.reactive.panache.common.WithSession;
import io.quarkus.panache.common.Sort;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;

/** The stage history of models. */
@ApplicationScoped
@WithSession
public class StageChangeRepository implements PanacheRepositoryBase<StageChange, Long> {

    /** A page of a model's stage changes, newest first. */
    public Uni<List<StageChange>> ofModel(Long modelRef, PageParams page) {
        return find("modelRef", Sort.descending("id"), modelRef).range(page.offset(), page.offset() + page.limit() - 1).list();
    }

    public Uni<Long> count(Long modelRef) {
        return count("modelRef", modelRef);
    }
}
