"""Operations commands: checks and reports run against a deployment's database."""
