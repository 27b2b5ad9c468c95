package dev.mlinfra.training.backend;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.Version;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Kubeflow Trainer's {@code TrainJob} ({@code trainer.kubeflow.org/v1alpha1}), as far as training-service
 * writes and reads it: the runtime it references, the trainer container, placement patches, and the
 * conditions and trainer status the Trainer controller reports. Fields this service does not use are
 * left out (and ignored when read).
 */
@Group(TrainJob.GROUP)
@Version(TrainJob.VERSION)
@Kind("TrainJob")
@Plural("trainjobs")
public class TrainJob extends CustomResource<TrainJob.Spec, TrainJob.Status> implements Namespaced {

    public static final String GROUP = "trainer.kubeflow.org";
    public static final String VERSION = "v1alpha1";
    /** Condition types the Trainer controller sets. */
    public static final String COMPLETE = "Complete";
    public static final String FAILED = "Failed";
    public static final String SUSPENDED = "Suspended";

    /** The condition of {@code type} when it is {@code True}. */
    public Optional<Condition> condition(String type) {
        if (getStatus() == null || getStatus().conditions == null) {
            return Optional.empty();
        }
        return getStatus().conditions.stream()
                .filter(c -> type.equals(c.getType()) && "True".equals(c.getStatus()))
                .findFirst();
    }

    /** Complete or Failed: its trainer will not run again. */
    public boolean finished() {
        return condition(COMPLETE).isPresent() || condition(FAILED).isPresent();
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonIgnoreProperties(ignoreUnknown = true)
    public static class Spec {
        public RuntimeRef runtimeRef;
        public Trainer trainer;
        public List<RuntimePatch> runtimePatches;
    }

    /** The (Cluster)TrainingRuntime the job is made from. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record RuntimeRef(String name, String apiGroup, String kind) {
    }

    /** The trainer container of every training node. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonIgnoreProperties(ignoreUnknown = true)
    public static class Trainer {
        public String image;
        public List<String> command;
        public List<String> args;
        public List<EnvVar> env;
        public Integer numNodes;
        public ResourceRequirements resourcesPerNode;
    }

    /**
     * A patch of the runtime's JobSet template, owned by {@code manager} (Trainer 2.2's
     * {@code spec.runtimePatches}): here only the pod placement of one replicated job.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record RuntimePatch(String manager, RuntimeSpecPatch trainingRuntimeSpec) {

        /** Places the pods of {@code replicatedJob} with a node selector and tolerations. */
        public static RuntimePatch placement(String manager, String replicatedJob, Map<String, String> nodeSelector,
                List<Toleration> tolerations) {
            PodSpecPatch pod = new PodSpecPatch(nodeSelector.isEmpty() ? null : nodeSelector,
                    tolerations.isEmpty() ? null : tolerations);
            return new RuntimePatch(manager, new RuntimeSpecPatch(new JobSetPatch(new JobSetSpecPatch(List.of(
                    new ReplicatedJobPatch(replicatedJob, new JobTemplatePatch(new JobSpecPatch(new PodTemplatePatch(pod)))))))));
        }
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record RuntimeSpecPatch(JobSetPatch template) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record JobSetPatch(JobSetSpecPatch spec) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record JobSetSpecPatch(List<ReplicatedJobPatch> replicatedJobs) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ReplicatedJobPatch(String name, JobTemplatePatch template) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record JobTemplatePatch(JobSpecPatch spec) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record JobSpecPatch(PodTemplatePatch template) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record PodTemplatePatch(PodSpecPatch spec) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record PodSpecPatch(Map<String, String> nodeSelector, List<Toleration> tolerations) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonIgnoreProperties(ignoreUnknown = true)
    public static class Status {
        public List<Condition> conditions;
        /** Set only where the cluster enables Trainer's TrainJobStatus feature gate. */
        public TrainerStatus trainerStatus;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record TrainerStatus(Integer progressPercentage, Integer estimatedRemainingSeconds, List<Metric> metrics,
            String lastUpdatedTime) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Metric(String name, String value) {
    }
}
