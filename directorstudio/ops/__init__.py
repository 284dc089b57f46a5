"""Operations commands: the rollout checklist as commands against a deployment."""
