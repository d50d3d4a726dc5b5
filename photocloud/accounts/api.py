from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics, mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from photocloud.core.schema import refusal
from photocloud.social import services as social

from .models import ApiToken, User
from .serializers import ApiTokenSerializer, MeSerializer, UserSerializer


class MeView(generics.RetrieveUpdateAPIView):
    """The authenticated user's own account."""

    serializer_class = MeSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get_object(self):
        return self.request.user


class ApiTokenViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Personal API tokens. The key is returned once, when the token is created."""

    serializer_class = ApiTokenSerializer
    permission_classes = [permissions.IsAuthenticated]

    queryset = ApiToken.objects.none()  # for the schema; requests use get_queryset()

    def get_queryset(self):
        return ApiToken.objects.filter(user=self.request.user)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, key = ApiToken.issue(request.user, serializer.validated_data["name"])
        return Response(ApiTokenSerializer(token, context={"new_key": key}).data, status=status.HTTP_201_CREATED)


class UserViewSet(viewsets.GenericViewSet):
    """Public profiles, and following (the relation the "my followers" access level uses)."""

    serializer_class = UserSerializer
    lookup_field = "username"
    lookup_value_regex = r"[\w.@+-]+"

    def get_queryset(self):
        return User.objects.filter(is_active=True)

    def retrieve(self, request, username=None):
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        methods=["POST"], request=None, responses={200: UserSerializer, 400: refusal("You cannot follow yourself.")}
    )
    @extend_schema(methods=["DELETE"], request=None, responses={200: UserSerializer})
    @action(detail=True, methods=["post", "delete"], permission_classes=[permissions.IsAuthenticated])
    def follow(self, request, username=None):
        """POST follows this user, DELETE unfollows."""
        followee = get_object_or_404(self.get_queryset(), username=username)
        if request.method == "DELETE":
            social.unfollow(request.user, followee)
        else:
            try:
                social.follow(request.user, followee)
            except social.FollowError as error:
                raise exceptions.ValidationError({"detail": str(error)}) from None
        return Response(self.get_serializer(followee).data)
