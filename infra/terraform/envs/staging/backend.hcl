# terraform init -backend-config=backend.hcl
bucket = "mindlinks-tfstate-333333333333"
region = "eu-west-1"
