package dev.mlinfra.infra.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** A component's query names its container as the cluster does: k8s/base's containers, not status keys. */
class PrometheusComponentQueryTest {

    private static final String TEMPLATE = "sum(container_memory_working_set_bytes{container=\"{container}\"}) # {component}";

    @Test
    void aServicesContainerIsItsKeyWithDashes() {
        assertEquals("sum(container_memory_working_set_bytes{container=\"training-service\"}) # training_service",
                PrometheusHistory.componentQuery(TEMPLATE, "training_service", Map.of()));
        assertEquals("sum(container_memory_working_set_bytes{container=\"gateway\"}) # gateway",
                PrometheusHistory.componentQuery(TEMPLATE, "gateway", Map.of()));
    }

    @Test
    void aContainerOfAnotherNameIsConfigured() {
        assertEquals("sum(container_memory_working_set_bytes{container=\"postgres\"}) # postgresql",
                PrometheusHistory.componentQuery(TEMPLATE, "postgresql", Map.of("postgresql", "postgres")));
    }
}
