//! Every env file under `configs/envs/` using the `mcq` plugin, on its Hub
//! fixture (`tests/fixtures/hub/`): the env file's own `env_args` configure
//! the plugin, every record prepares, its reference scores 1 and an empty
//! reply 0. What `assay plugin check` verifies through the host.

use catalogue_fixtures::{envs_of, prove};
use mcq::Mcq;

#[test]
fn every_mcq_env_passes_on_its_fixture() {
    let envs = envs_of("mcq");
    let ids: Vec<&str> = envs.iter().map(|env| env.id.as_str()).collect();
    for expected in
        ["mmlu", "mmlu-shuffled", "mmlu-pro", "gpqa-diamond", "medmcqa", "mmlu-anatomy", "mmlu-professional_medicine"]
    {
        assert!(ids.contains(&expected), "{expected} missing from {ids:?}");
    }
    let medical = envs.iter().filter(|env| env.file.ends_with("mmlu-medical.yaml")).count();
    assert_eq!(medical, 6, "the six MMLU clinical subsets");
    for env in &envs {
        assert!(prove::<Mcq>(env) > 0, "{}", env.id);
    }
}
