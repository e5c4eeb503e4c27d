output "table_arns" {
  description = "<service>-<table> => table ARN"
  value       = { for key, table in aws_dynamodb_table.this : key => table.arn }
}

output "bucket_arns" {
  value = { for key, bucket in aws_s3_bucket.this : key => bucket.arn }
}

output "redis_url_secret_arn" {
  value = aws_secretsmanager_secret.redis_url.arn
}

output "redis_security_group_id" {
  value = aws_security_group.redis.id
}
