package dev.mlinfra.infra.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mlinfra.infra.GpuPool.Kind;
import dev.mlinfra.infra.service.LedgerRules.Decision;
import dev.mlinfra.infra.service.LedgerRules.Deny;
import dev.mlinfra.infra.service.LedgerRules.Grant;
import dev.mlinfra.infra.service.LedgerRules.Need;
import dev.mlinfra.infra.service.LedgerRules.PoolSpec;
import dev.mlinfra.infra.service.LedgerRules.Round;
import dev.mlinfra.infra.service.LedgerRules.Waiting;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** The ledger's decisions: FIFO grants while capacity lasts, quotas, and requests that can never be granted. */
class LedgerRulesTest {

    private static final PoolSpec SLOT = new PoolSpec("local", Kind.SLOT, 1);
    private static final PoolSpec EIGHT = new PoolSpec("h100", Kind.GPU, 8);

    private static LedgerRules rules(OptionalInt quota) {
        return new LedgerRules(Map.of("local", SLOT, "h100", EIGHT),
                Map.of("scout", new Need("local", 1), "maverick", new Need("h100", 4)), quota);
    }

    private static final LedgerRules NO_QUOTA = rules(OptionalInt.empty());

    private static Waiting w(long seq, String team, int gpus) {
        return new Waiting(seq, team, gpus);
    }

    private static List<Long> granted(Round round) {
        return round.decisions().stream().filter(d -> d instanceof Grant).map(Decision::seq).toList();
    }

    @Test
    void theOneSlotGoesToTheFirstRequestAndTheRestWait() {
        Round round = NO_QUOTA.decide(SLOT, 0, List.of(w(1, "a", 1), w(2, "b", 1), w(3, "a", 1)), Map.of());
        assertEquals(List.of(1L), granted(round));
        assertEquals(1, round.decisions().size(), "the others stay waiting, with no decision");
    }

    @Test
    void aFullPoolGrantsNothing() {
        Round round = NO_QUOTA.decide(SLOT, 1, List.of(w(5, "a", 1)), Map.of());
        assertTrue(round.decisions().isEmpty());
    }

    @Test
    void requestsAreGrantedInQueueOrderWhileTheyFit() {
        Round round = NO_QUOTA.decide(EIGHT, 0, List.of(w(1, "a", 4), w(2, "b", 2), w(3, "c", 2), w(4, "d", 1)), Map.of());
        assertEquals(List.of(1L, 2L, 3L), granted(round));
    }

    @Test
    void theFirstRequestThatDoesNotFitStopsTheRoundSoLargeRequestsAreNotStarved() {
        // 3 free: the 4-GPU request at the head waits, and the 1-GPU request behind it may not overtake it.
        Round round = NO_QUOTA.decide(EIGHT, 5, List.of(w(7, "a", 4), w(8, "b", 1)), Map.of());
        assertTrue(round.decisions().isEmpty());
    }

    @Test
    void aRequestThatFitsAfterEarlierGrantsIsGrantedInTheSameRound() {
        Round round = NO_QUOTA.decide(EIGHT, 2, List.of(w(1, "a", 4), w(2, "b", 2), w(3, "c", 1)), Map.of());
        assertEquals(List.of(1L, 2L), granted(round), "4 + 2 of 6 free; the third (1) does not fit the 0 left");
    }

    @Test
    void capacityOverAllocatedAfterAShrinkGrantsNothing() {
        PoolSpec shrunk = new PoolSpec("h100", Kind.GPU, 2);
        Round round = NO_QUOTA.decide(shrunk, 4, List.of(w(1, "a", 1)), Map.of());
        assertTrue(round.decisions().isEmpty());
    }

    @Test
    void aRequestLargerThanItsPoolIsDeniedAndTheRoundGoesOn() {
        PoolSpec shrunk = new PoolSpec("h100", Kind.GPU, 2);
        Round round = NO_QUOTA.decide(shrunk, 0, List.of(w(1, "a", 4), w(2, "b", 2)), Map.of());
        assertEquals(2, round.decisions().size());
        Deny deny = (Deny) round.decisions().get(0);
        assertEquals(1L, deny.seq());
        assertEquals("Needs 4 GPUs of pool 'h100', which has 2 GPUs", deny.reason());
        assertEquals(List.of(2L), granted(round));
    }

    @Test
    void aTeamAtItsQuotaIsSkippedAndOthersBehindItAreGranted() {
        LedgerRules quota = rules(OptionalInt.of(2));
        Round round = quota.decide(EIGHT, 2, List.of(w(1, "a", 1), w(2, "b", 2), w(3, "a", 1)), Map.of("a", 2));
        assertEquals(List.of(2L), granted(round), "team a holds 2 of its 2 elsewhere: both its requests wait");
        assertEquals(Map.of("a", 2, "b", 2), round.held());
    }

    @Test
    void theQuotaCountsGrantsOfTheSameRound() {
        LedgerRules quota = rules(OptionalInt.of(2));
        Round round = quota.decide(EIGHT, 0, List.of(w(1, "a", 1), w(2, "a", 1), w(3, "a", 1), w(4, "b", 1)), Map.of());
        assertEquals(List.of(1L, 2L, 4L), granted(round));
    }

    @Test
    void aSkippedRequestDoesNotStopTheRoundButOneThatDoesNotFitDoes() {
        LedgerRules quota = rules(OptionalInt.of(4));
        // 3 free: team a (holding 4) is skipped, b's 4 does not fit and stops the round before c.
        Round round = quota.decide(EIGHT, 5, List.of(w(1, "a", 1), w(2, "b", 4), w(3, "c", 1)), Map.of("a", 4));
        assertTrue(round.decisions().isEmpty());
    }

    @Test
    void aRequestOverTheQuotaButNotFittingIsSkippedNotBlocking() {
        LedgerRules quota = rules(OptionalInt.of(4));
        // a is over its quota and would not fit either: it waits for its own team, and b goes.
        Round round = quota.decide(EIGHT, 6, List.of(w(1, "a", 4), w(2, "b", 2)), Map.of("a", 2));
        assertEquals(List.of(2L), granted(round));
    }

    @Test
    void aRequestLargerThanTheQuotaIsDenied() {
        LedgerRules quota = rules(OptionalInt.of(2));
        Round round = quota.decide(EIGHT, 0, List.of(w(1, "a", 4)), Map.of());
        Deny deny = (Deny) round.decisions().getFirst();
        assertTrue(deny.reason().contains("quota 2"), deny.reason());
    }

    @Test
    void withoutAQuotaWhatTeamsHoldDoesNotMatter() {
        Round round = NO_QUOTA.decide(EIGHT, 0, List.of(w(1, "a", 4), w(2, "a", 4)), Map.of("a", 100));
        assertEquals(List.of(1L, 2L), granted(round));
    }

    @Test
    void anEmptyQueueDecidesNothing() {
        assertTrue(NO_QUOTA.decide(EIGHT, 0, List.of(), Map.of()).decisions().isEmpty());
    }

    @Test
    void aModelTypeNeedsItsConfiguredPoolAndGpus() {
        assertEquals(new Need("h100", 4), NO_QUOTA.need("maverick").orElseThrow());
        assertTrue(NO_QUOTA.need("llama-9000").isEmpty());
        assertTrue(NO_QUOTA.need(null).isEmpty());
        String reason = NO_QUOTA.unknownModelType("llama-9000");
        assertTrue(reason.contains("'llama-9000'") && reason.contains("maverick, scout"), reason);
    }

    @Test
    void requestsThatFitSomeDayAreNotRefused() {
        assertTrue(NO_QUOTA.neverGrantable(EIGHT, 8).isEmpty());
        assertTrue(NO_QUOTA.neverGrantable(SLOT, 1).isEmpty());
        assertEquals("Needs 2 execution slots of pool 'local', which has 1 execution slot",
                NO_QUOTA.neverGrantable(SLOT, 2).orElseThrow());
        assertTrue(rules(OptionalInt.of(4)).neverGrantable(EIGHT, 4).isEmpty());
        assertTrue(rules(OptionalInt.of(3)).neverGrantable(EIGHT, 4).isPresent());
    }

    @Test
    void aConfigurationWithoutPoolsOrWithDanglingModelTypesIsRefused() {
        assertTrue(NO_QUOTA.problems().isEmpty());
        List<String> problems = new LedgerRules(Map.of("local", SLOT),
                Map.of("scout", new Need("gpu-pool", 1), "maverick", new Need("local", 0)), OptionalInt.of(0)).problems();
        assertEquals(3, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("mlinfra.gpu.model-types.maverick.gpus"), problems.toString());
        assertTrue(problems.get(1).contains("'gpu-pool'"), problems.toString());
        assertTrue(problems.get(2).contains("team-quota"), problems.toString());
        assertEquals(1, new LedgerRules(Map.of(), Map.of(), OptionalInt.empty()).problems().size());
        assertEquals(1, new LedgerRules(Map.of("x", new PoolSpec("x", Kind.GPU, -1)), Map.of(), OptionalInt.empty())
                .problems().size());
    }

    @Test
    void theSummarySaysThatASlotPoolHasNoGpus() {
        List<String> lines = NO_QUOTA.summary();
        assertEquals(List.of(
                "GPU pool 'h100': 8 GPUs; serves maverick (4)",
                "GPU pool 'local': 1 execution slot (no GPUs on this machine); serves scout (1)",
                "GPU team quota: none"), lines);
        assertEquals("GPU team quota: one team holds at most 2 at once, across pools",
                rules(OptionalInt.of(2)).summary().getLast());
    }
}
