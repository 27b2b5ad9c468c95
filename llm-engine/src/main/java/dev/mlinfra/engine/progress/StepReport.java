package dev.mlinfra.engine.progress;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * One optimizer step as reported to listeners, stdout and Kafka.
 *
 * @param jobId           job id
 * @param epoch           current epoch (1-based)
 * @param totalEpochs     epochs in the job
 * @param step            optimizer steps done (1-based)
 * @param totalSteps      optimizer steps in the job
 * @param loss            training loss of this step (mean answer-token cross-entropy)
 * @param learningRate    learning rate used for this step
 * @param tokensPerSecond tokens processed per second in this step
 * @param time            when the step ended (UTC, ISO-8601, second precision)
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record StepReport(String jobId, int epoch, int totalEpochs, int step, int totalSteps, double loss,
        double learningRate, double tokensPerSecond, String time) {
}
