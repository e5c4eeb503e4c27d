# terraform init -backend-config=backend.hcl
bucket = "mindlinks-tfstate-222222222222"
region = "eu-west-1"
