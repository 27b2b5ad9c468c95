package dev.mlinfra.registry.service;

import dev.mlinfra.registry.Stage;
import dev.mlinfra.registry.config.RegistryConfig;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Map;
import java.util.Optional;

/**
 * The bounds a version's evaluated metrics must keep to enter a stage, per team (configuration,
 * {@code mlinfra.registry.promotion-gates}); a team without gates of its own has those of {@code "*"}.
 */
@ApplicationScoped
public class PromotionGates {

    static final String EVERY_TEAM = "*";

    private final Map<String, Map<String, Map<String, RegistryConfig.Bound>>> gates;

    public PromotionGates(RegistryConfig config) {
        this.gates = config.promotionGates();
    }

    /** Why {@code metrics} may not enter {@code stage} in {@code team}, or empty when they may. */
    public Optional<String> refusal(String team, Stage stage, Map<String, Object> metrics) {
        Map<String, Map<String, RegistryConfig.Bound>> ofTeam = gates.containsKey(team) ? gates.get(team) : gates.get(EVERY_TEAM);
        if (ofTeam == null || !ofTeam.containsKey(stage.value())) {
            return Optional.empty();
        }
        String whose = gates.containsKey(team) ? "team '" + team + "'" : "every team";
        for (Map.Entry<String, RegistryConfig.Bound> gate : new java.util.TreeMap<>(ofTeam.get(stage.value())).entrySet()) {
            String metric = gate.getKey();
            Object measured = metrics.get(metric);
            if (!(measured instanceof Number number)) {
                return Optional.of(metric + " was not measured for this version, and the gate of " + whose + " for "
                        + stage.value() + " needs it");
            }
            double value = number.doubleValue();
            RegistryConfig.Bound bound = gate.getValue();
            if (bound.min().isPresent() && value < bound.min().get()) {
                return Optional.of(metric + " is " + value + ", and the gate of " + whose + " for " + stage.value()
                        + " requires " + metric + " >= " + bound.min().get());
            }
            if (bound.max().isPresent() && value > bound.max().get()) {
                return Optional.of(metric + " is " + value + ", and the gate of " + whose + " for " + stage.value()
                        + " requires " + metric + " <= " + bound.max().get());
            }
        }
        return Optional.empty();
    }
}
