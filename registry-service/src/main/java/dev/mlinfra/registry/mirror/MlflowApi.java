package dev.mlinfra.registry.mirror;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import io.quarkus.rest.client.reactive.ClientExceptionMapper;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.List;
import org.eclipse.microprofile.rest.client.annotation.RegisterClientHeaders;
import org.eclipse.microprofile.rest.client.inject.RegisterRestClient;

/**
 * The endpoints of the MLflow Model Registry REST API (MLflow 2.x) that the mirror uses. Field
 * names travel in snake_case, as MLflow spells them; bodies of POST and DELETE are JSON, GET takes
 * query parameters. An error answer ({@code {"error_code", "message"}}) becomes an {@link MlflowError}.
 * The base URL is {@code quarkus.rest-client.mlflow.url}, which application.properties takes from
 * {@code mlinfra.registry.mlflow.url}.
 */
@RegisterRestClient(configKey = MlflowApi.CONFIG_KEY)
@RegisterClientHeaders(MlflowAuth.class)
@Path("/api/2.0/mlflow")
@Consumes(MediaType.APPLICATION_JSON)
@Produces(MediaType.APPLICATION_JSON)
public interface MlflowApi {

    String CONFIG_KEY = "mlflow";

    /** A tag of a registered model or of a model version. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Tag(String key, String value) {
    }

    record CreateRegisteredModel(String name, List<Tag> tags, String description) {
    }

    record DeleteRegisteredModel(String name) {
    }

    record CreateModelVersion(String name, String source, List<Tag> tags, String description) {
    }

    record SetAlias(String name, String alias, String version) {
    }

    record DeleteAlias(String name, String alias) {
    }

    record TransitionStage(String name, String version, String stage, boolean archiveExistingVersions) {
    }

    /** A model version as MLflow describes it (the fields the mirror reads). */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record ModelVersion(String name, String version, String currentStage, String source, List<Tag> tags) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record ModelVersionAnswer(ModelVersion modelVersion) {
    }

    /** One page of a search; MLflow leaves out empty lists and the token of a last page. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record ModelVersionPage(List<ModelVersion> modelVersions, String nextPageToken) {
    }

    /** Fails with {@code RESOURCE_ALREADY_EXISTS} when a registered model of that name exists. */
    @POST
    @Path("/registered-models/create")
    Uni<Void> createRegisteredModel(CreateRegisteredModel request);

    /** Deletes the registered model and all its versions; {@code RESOURCE_DOES_NOT_EXIST} when there is none. */
    @DELETE
    @Path("/registered-models/delete")
    Uni<Void> deleteRegisteredModel(DeleteRegisteredModel request);

    /** Creates the model's next version; MLflow numbers it. */
    @POST
    @Path("/model-versions/create")
    Uni<ModelVersionAnswer> createModelVersion(CreateModelVersion request);

    /** Model versions matching a filter such as {@code name='team-a.my-model'}, a page at a time. */
    @GET
    @Path("/model-versions/search")
    Uni<ModelVersionPage> searchModelVersions(@QueryParam("filter") String filter, @QueryParam("max_results") int maxResults,
            @QueryParam("page_token") String pageToken);

    /** Points the alias at the version (moving it from whichever version held it). */
    @POST
    @Path("/registered-models/alias")
    Uni<Void> setAlias(SetAlias request);

    @DELETE
    @Path("/registered-models/alias")
    Uni<Void> deleteAlias(DeleteAlias request);

    /** MLflow's deprecated stages, for servers and users that still go by them. */
    @POST
    @Path("/model-versions/transition-stage")
    Uni<Void> transitionStage(TransitionStage request);

    @ClientExceptionMapper
    static RuntimeException toException(Response response) {
        return MlflowError.of(response);
    }
}
