//! Which samples each shard of a run split with `--shard I/N` runs.
//!
//! The plan's samples are numbered in order: job by job (plan order), then
//! record by record, rollout by rollout. Shard `i` of `n` owns the samples
//! whose number is `i` modulo `n`. So every shard gets the same number of
//! samples of every job, to within one, whatever the jobs' sizes: shards
//! finish together even when some jobs cost more per sample than others.
//! The partition depends only on the plan's jobs, in order, and their
//! sizes; job identities fix those, so shards started with the same config
//! agree on it without talking to each other (and `schedule` refuses a
//! shard whose jobs differ from those of the shards already in the run).

use super::preflight::PreparedJob;
use crate::store::Shard;

/// The samples of one job that one shard owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct JobPart {
    /// The shard.
    pub shard: Shard,
    /// The plan-wide number of the job's first sample.
    first: u64,
    /// The job's rollouts per record.
    rollouts: u32,
}

impl JobPart {
    /// Whether the shard runs this sample.
    pub(crate) fn owns(&self, record: usize, rollout: u32) -> bool {
        let number = self.first + record as u64 * u64::from(self.rollouts) + u64::from(rollout);
        number % u64::from(self.shard.count) == u64::from(self.shard.index)
    }

    /// How many of the job's `samples` the shard runs.
    pub(crate) fn share(&self, samples: u64) -> u64 {
        self.owned_below(self.first + samples) - self.owned_below(self.first)
    }

    /// How many sample numbers in `0..end` the shard owns.
    fn owned_below(&self, end: u64) -> u64 {
        let (index, count) = (u64::from(self.shard.index), u64::from(self.shard.count));
        if end <= index { 0 } else { (end - index - 1) / count + 1 }
    }
}

/// Give every job its part for `shard` (none without a shard).
pub(crate) fn assign(jobs: &mut [PreparedJob], shard: Option<Shard>) {
    let mut first = 0;
    for job in jobs {
        job.part = shard.map(|shard| JobPart { shard, first, rollouts: job.plan.env.rollouts });
        first += job.total_samples();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The parts of jobs of these (records, rollouts), for every shard of `count`.
    fn parts(jobs: &[(usize, u32)], count: u32) -> Vec<Vec<JobPart>> {
        (0..count)
            .map(|index| {
                let mut first = 0;
                jobs.iter()
                    .map(|(records, rollouts)| {
                        let part = JobPart { shard: Shard::new(index, count).unwrap(), first, rollouts: *rollouts };
                        first += *records as u64 * u64::from(*rollouts);
                        part
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn every_sample_has_exactly_one_shard_and_shares_differ_by_at_most_one() {
        let jobs = [(7, 3), (1, 1), (10, 2), (0, 4), (5, 1)];
        for count in 1..=9 {
            let parts = parts(&jobs, count);
            for (j, (records, rollouts)) in jobs.iter().enumerate() {
                let mut owners = vec![0u32; records * *rollouts as usize];
                for shard in &parts {
                    let part = shard[j];
                    let mut owned = 0;
                    for record in 0..*records {
                        for rollout in 0..*rollouts {
                            if part.owns(record, rollout) {
                                owners[record * *rollouts as usize + rollout as usize] += 1;
                                owned += 1;
                            }
                        }
                    }
                    assert_eq!(part.share(owners.len() as u64), owned, "share counts what owns says");
                }
                assert!(owners.iter().all(|n| *n == 1), "{count} shards, job {j}: {owners:?}");
                let shares: Vec<u64> = parts.iter().map(|shard| shard[j].share(owners.len() as u64)).collect();
                let (min, max) = (shares.iter().min().unwrap(), shares.iter().max().unwrap());
                assert!(max - min <= 1, "{count} shards, job {j}: {shares:?}");
            }
        }
    }
}
