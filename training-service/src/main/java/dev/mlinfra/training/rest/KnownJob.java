package dev.mlinfra.training.rest;

import jakarta.ws.rs.NameBinding;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks an endpoint of one job ({@code job_id} in its path) whose answer is a stream of
 * server-sent events: the stream's head (200) is written before its first event, so a job that is
 * not the caller's team's would only show as a stream that breaks off. {@link KnownJobFilter}
 * answers 404 before the stream starts.
 */
@NameBinding
@Retention(RetentionPolicy.RUNTIME)
@Target({ ElementType.METHOD, ElementType.TYPE })
public @interface KnownJob {
}
