# terraform init -backend-config=backend.hcl
bucket = "mindlinks-tfstate-111111111111"
region = "eu-west-1"
