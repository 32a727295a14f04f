//! Every env file under `configs/envs/` using the `qa` plugin, on its Hub
//! fixture (`tests/fixtures/hub/`): the env file's own `env_args` configure
//! the plugin, every record prepares, its reference scores 1 and an empty
//! reply 0. What `assay plugin check` verifies through the host.

use catalogue_fixtures::{envs_of, prove};
use qa::Qa;

#[test]
fn every_qa_env_passes_on_its_fixture() {
    let envs = envs_of("qa");
    let ids: Vec<&str> = envs.iter().map(|env| env.id.as_str()).collect();
    for expected in ["pubmedqa", "medqa", "medxpertqa-text", "m-arc", "arc-challenge", "bbh-word_sorting"] {
        assert!(ids.contains(&expected), "{expected} missing from {ids:?}");
    }
    assert_eq!(ids.iter().filter(|id| id.starts_with("bbh-")).count(), 27, "the 27 BBH tasks");
    for env in &envs {
        assert!(prove::<Qa>(env) > 0, "{}", env.id);
    }
}
