package dev.mlinfra.training;

import dev.mlinfra.commons.persistence.TextEnum;
import dev.mlinfra.commons.persistence.TextEnumConverter;
import jakarta.persistence.Converter;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The life of a training job, and the one place that says which changes are allowed:
 * queued → running → completed | failed | cancelled; queued → cancelled; running → cancelling →
 * cancelled. A queued job can also fail (no capacity can ever be granted, or its trainer cannot
 * start), and a cancelling one can still complete or fail (it finished before it stopped).
 */
public enum JobStatus implements TextEnum {
    QUEUED("queued"),
    RUNNING("running"),
    CANCELLING("cancelling"),
    COMPLETED("completed"),
    FAILED("failed"),
    CANCELLED("cancelled");

    /** Statuses a list can be filtered by. */
    public static final List<JobStatus> ALL = List.of(values());
    /** Jobs that hold (or wait for) capacity and may still use their dataset. */
    public static final Set<JobStatus> OPEN = EnumSet.of(QUEUED, RUNNING, CANCELLING);

    private static final Map<JobStatus, Set<JobStatus>> NEXT = Map.of(
            QUEUED, EnumSet.of(RUNNING, CANCELLED, FAILED),
            RUNNING, EnumSet.of(COMPLETED, FAILED, CANCELLING, CANCELLED),
            CANCELLING, EnumSet.of(CANCELLED, COMPLETED, FAILED),
            COMPLETED, EnumSet.noneOf(JobStatus.class),
            FAILED, EnumSet.noneOf(JobStatus.class),
            CANCELLED, EnumSet.noneOf(JobStatus.class));

    private final String value;

    JobStatus(String value) {
        this.value = value;
    }

    @Override
    public String value() {
        return value;
    }

    public boolean terminal() {
        return NEXT.get(this).isEmpty();
    }

    public boolean canBecome(JobStatus next) {
        return NEXT.get(this).contains(next);
    }

    @Converter(autoApply = true)
    public static class StatusConverter extends TextEnumConverter<JobStatus> {
        public StatusConverter() {
            super(JobStatus.class);
        }
    }
}
