# One ECR repository per service: immutable tags (the git SHA), scanned on
# push, encrypted with KMS, old untagged images expired.
variable "resource_prefix" {
  type = string
}

variable "services" {
  description = "Service names."
  type        = set(string)
}

variable "kms_key_arn" {
  type = string
}

variable "keep_images" {
  description = "Tagged images kept per repository (rollback depth)."
  type        = number
  default     = 30
}

resource "aws_ecr_repository" "this" {
  for_each             = var.services
  name                 = "${var.resource_prefix}${each.key}"
  image_tag_mutability = "IMMUTABLE"

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = var.kms_key_arn
  }
}

resource "aws_ecr_lifecycle_policy" "this" {
  for_each   = aws_ecr_repository.this
  repository = each.value.name
  policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "Expire untagged images after 7 days"
        selection    = { tagStatus = "untagged", countType = "sinceImagePushed", countUnit = "days", countNumber = 7 }
        action       = { type = "expire" }
      },
      {
        rulePriority = 2
        description  = "Keep the newest tagged images"
        selection    = { tagStatus = "any", countType = "imageCountMoreThan", countNumber = var.keep_images }
        action       = { type = "expire" }
      },
    ]
  })
}

output "repository_urls" {
  value = { for name, repository in aws_ecr_repository.this : name => repository.repository_url }
}

output "repository_arns" {
  value = { for name, repository in aws_ecr_repository.this : name => repository.arn }
}
